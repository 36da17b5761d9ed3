// Two instances whose clocks differ (one runs ahead by 30 s, or by 5 min), one PostgreSQL database
// and one Redis: which instance a client reaches must not change what its refresh token or its
// logout means. The database's clock decides grace and reuse; a revocation lives here as long as a
// token could, whatever the revoking instance's clock says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  type Instance,
  login,
  REFRESH,
  registerUser,
  startInstance,
  type Tokens,
  useCluster,
  waitForSameKeys,
  within,
} from "./cluster.js";

const ME = "{ me { id } }";
const LOGOUT = "mutation { logout }";
const GRACE_SECONDS = 10;
const TOLERANCE_SECONDS = 5;

const cluster = useCluster({
  env: {
    REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS),
    CLOCK_TOLERANCE_SECONDS: String(TOLERANCE_SECONDS),
  },
});

interface RefreshPayload {
  refresh: { accessToken: string; refreshToken: string; session: { id: string } };
}

async function refresh(instance: Instance, token: string) {
  return instance.gql<RefreshPayload>(REFRESH, { variables: { token } });
}

async function meStatus(instance: Instance, token: string) {
  const answer = await instance.gql(ME, { token });
  return { status: answer.status, reason: errorOf(answer)?.reason };
}

for (const { skewSeconds, ttlSeconds } of [
  { skewSeconds: 30, ttlSeconds: 60 },
  { skewSeconds: 300, ttlSeconds: 300 },
]) {
  describe(`two instances, one ${skewSeconds} s ahead of the other`, () => {
    let slow: Instance;
    let fast: Instance;
    beforeAll(async () => {
      const env = { ...cluster.env, ACCESS_TOKEN_TTL_SECONDS: String(ttlSeconds) };
      [slow, fast] = await Promise.all([
        startInstance("slow", env),
        startInstance("fast", { ...env, TEST_CLOCK_OFFSET_SECONDS: String(skewSeconds) }),
      ]);
      await waitForSameKeys([slow, fast]);
    });
    afterAll(async () => {
      await Promise.all([slow?.stop(), fast?.stop()]);
    });

    for (const [first, second] of [
      ["slow", "fast"],
      ["fast", "slow"],
    ] as const) {
      it(`answers a lost-answer retry on the ${second} instance within grace with the same tip, not as reuse (rotated on the ${first})`, async () => {
        const instances = { slow, fast };
        const user = await registerUser(slow);
        const rotated = await refresh(instances[first], user.refreshToken);
        expect(rotated.errors).toBeUndefined();
        // The answer was lost: the client retries the same token, and reaches the other instance.
        const retried = await refresh(instances[second], user.refreshToken);
        expect(retried.errors).toBeUndefined();
        expect(retried.data?.refresh.refreshToken).toBe(rotated.data?.refresh.refreshToken);
        // The session lives on: its tip rotates on either instance.
        const next = await refresh(instances[first], retried.data!.refresh.refreshToken);
        expect(next.errors).toBeUndefined();
      });
    }

    it("never revokes a session whose token is refreshed ten times at once, split over both instances", async () => {
      const user = await registerUser(fast);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => refresh(i % 2 === 0 ? slow : fast, user.refreshToken)),
      );
      expect(answers.map((a) => errorOf(a) ?? null)).toEqual(Array(10).fill(null));
      const tips = new Set(answers.map((a) => a.data?.refresh.refreshToken));
      expect(tips.size).toBe(1);
      const { rows } = await cluster.db.pool.query(
        `SELECT "revokedAt" FROM holdfast."Session" WHERE id = $1`,
        [user.sessionId],
      );
      expect(rows[0]?.revokedAt).toBeNull();
    });

    it("refreshes on the slower instance a session signed in on the faster one, and again after", async () => {
      const user = await registerUser(fast);
      const signedIn = await login(fast, user.email);
      const first = await refresh(slow, signedIn.refreshToken);
      expect(errorOf(first)).toBeUndefined();
      expect((await meStatus(slow, first.data!.refresh.accessToken)).status).toBe(200);
      const second = await refresh(slow, first.data!.refresh.refreshToken);
      expect(errorOf(second)).toBeUndefined();
    });

    it("refuses a logged-out token on the faster instance until its own exp, when the slower one logged it out", async () => {
      const user: Tokens = await registerUser(fast);
      expect(await meStatus(fast, user.accessToken)).toEqual({ status: 200, reason: undefined });
      // Logged out on the slower instance with a token of the same session that it issued itself.
      const onSlow = await refresh(slow, user.refreshToken);
      expect(errorOf(onSlow)).toBeUndefined();
      const out = await slow.gql<{ logout: boolean }>(LOGOUT, { token: onSlow.data!.refresh.accessToken });
      expect(out.data?.logout).toBe(true);
      const loggedOutAt = Date.now();
      const refused = await within(2000, async () => (await meStatus(fast, user.accessToken)).status === 401);
      expect(refused).not.toBeNull();
      // The revoking instance's idea of the token's end (its clock + lifetime + tolerance) has passed
      // on the faster instance's clock; the token itself is still within its exp there.
      const revokerEndsItAfterMs = (ttlSeconds + TOLERANCE_SECONDS - skewSeconds) * 1000 + 1000;
      const answers = new Set<string>();
      await within(
        revokerEndsItAfterMs + 10_000,
        async () => {
          const answer = await meStatus(fast, user.accessToken);
          answers.add(`${answer.status} ${answer.reason}`);
          return Date.now() - loggedOutAt > revokerEndsItAfterMs;
        },
        500,
      );
      expect([...answers]).toEqual(["401 token_revoked"]);
    }, 180_000);
  });
}
