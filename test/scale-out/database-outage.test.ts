// PostgreSQL stopped under a running instance (a private server: the shared one serves other tests).
//
// What a user should expect while the database is away: they stay signed in. Their access token is
// still accepted (verification needs no database), so nothing answers 401 and no client logs out.
// `{ me { id } }` answers from the token alone. What needs stored data cannot be served: the rest of
// `me` (the user row), `sessions`, `login`, `refresh` answer
// HTTP 503 SERVICE_UNAVAILABLE with `retryable: true`, and the client retries with backoff. A refresh
// that failed consumed nothing: the same refresh token works once the database is back.
import { describe, expect, it } from "vitest";
import { startPrivatePostgres } from "../support/private-services.js";
import { useForFile } from "../support/use-for-file.js";
import {
  errorOf,
  type GraphQLAnswer,
  LOGIN,
  PASSWORD,
  REFRESH,
  registerUser,
  sleep,
  useCluster,
  within,
} from "./cluster.js";
import { familyViolations } from "./family-consistency.js";

// Hooks run in order, after-hooks in reverse: the server is up before the cluster, down after it.
const postgres = useForFile(startPrivatePostgres, (p) => p.destroy());
const cluster = useCluster({ postgres: () => postgres.url() });
const [instance] = cluster.startForFile("A");

function expectRetryable503(answer: GraphQLAnswer<unknown>, what: string): void {
  expect(answer.status, what).toBe(503);
  expect(answer.headers.get("retry-after"), what).not.toBeNull();
  expect(answer.errors?.length, what).toBeGreaterThan(0);
  for (const error of answer.errors ?? []) {
    expect(error.extensions, what).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
  }
}

describe("PostgreSQL stopped during a run", () => {
  it("keeps access tokens valid, answers 503 retryable where data is needed, and resumes by itself", async () => {
    const user = await registerUser(instance);
    const revoked = await registerUser(instance);
    expect(
      (await instance.gql("mutation { logout }", { token: revoked.accessToken })).errors,
    ).toBeUndefined();

    await postgres.stop("fast");
    try {
      // Authentication needs no database: a token-only operation succeeds…
      const narrowed = await instance.gql<{ narrowToken: { accessToken: string } }>(
        `mutation { narrowToken(scopes: ["notes:read"], expiresInSeconds: 30) { accessToken } }`,
        { token: user.accessToken },
      );
      expect(narrowed.errors).toBeUndefined();
      expect(narrowed.data?.narrowToken.accessToken).toMatch(/^ey/);
      expect((await instance.gql("{ __typename }", { token: user.accessToken })).status).toBe(200);
      // …and data fields fail as retryable, never as 401 (the client must not log the user out).
      const meId = await instance.gql<{ me: { id: string } }>("{ me { id } }", { token: user.accessToken });
      expect(meId.data?.me.id).toBe(user.userId);
      expectRetryable503(await instance.gql("{ me { id displayName } }", { token: user.accessToken }), "me");
      expectRetryable503(await instance.gql("{ sessions { id } }", { token: user.accessToken }), "sessions");
      // Revocations still bite: they are in memory, not read per request.
      const afterLogout = await instance.gql("{ __typename }", { token: revoked.accessToken });
      expect(afterLogout.status).toBe(401);
      expect(errorOf(afterLogout)).toEqual({ code: "UNAUTHENTICATED", reason: "token_revoked" });
      // A forged token is still a 401, not a 503.
      const forged = await instance.gql("{ __typename }", { token: `${user.accessToken.slice(0, -4)}AAAA` });
      expect(forged.status).toBe(401);

      expectRetryable503(await instance.gql(REFRESH, { variables: { token: user.refreshToken } }), "refresh");
      expectRetryable503(
        await instance.gql(LOGIN, {
          variables: { input: { email: user.email, password: PASSWORD, refreshTokenDelivery: "BODY" } },
        }),
        "login",
      );
      const down = await instance.get("/readyz");
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ checks: { database: "down", redis: "ok" } });
    } finally {
      await postgres.start();
    }

    // No manual step: the pool reconnects on the next request.
    const ready = await within(10_000, async () => (await instance.get("/readyz")).status === 200, 100);
    expect(ready).not.toBeNull();
    expect((await instance.get("/readyz")).body).toMatchObject({ checks: { database: "ok", redis: "ok" } });
    // The refresh that failed consumed nothing: the same token rotates now.
    const refreshed = await instance.gql<{ refresh: { refreshToken: string } }>(REFRESH, {
      variables: { token: user.refreshToken },
    });
    expect(errorOf(refreshed)).toBeUndefined();
    expect(refreshed.data?.refresh.refreshToken).toBeTruthy();
    const me = await instance.gql<{ me: { id: string } }>("{ me { id } }", { token: user.accessToken });
    expect(me.data?.me?.id).toBe(user.userId);
    const again = await instance.gql(LOGIN, {
      variables: { input: { email: user.email, password: PASSWORD, refreshTokenDelivery: "BODY" } },
    });
    expect(errorOf(again)).toBeUndefined();
    expect(await familyViolations(cluster.db.pool)).toEqual([]);
  });
  it("bounds every request while PostgreSQL hangs (SIGSTOP), and recovers when it answers again", async () => {
    const user = await registerUser(instance);
    postgres.pause();
    try {
      // A hung server keeps connections open and never answers; pooled queries and new connections
      // both time out (5 s), so each request ends in a retryable 503 instead of waiting on TCP.
      const bounded = { signal: AbortSignal.timeout(20_000) };
      const [me, refresh, narrowed] = await Promise.all([
        instance.gql("{ me { displayName } }", { token: user.accessToken, ...bounded }),
        instance.gql(REFRESH, { variables: { token: user.refreshToken }, ...bounded }),
        instance.gql(`mutation { narrowToken(scopes: ["notes:read"]) { accessToken } }`, {
          token: user.accessToken,
        }),
      ]);
      expect(narrowed.errors).toBeUndefined();
      expectRetryable503(me, "me");
      expectRetryable503(refresh, "refresh");
    } finally {
      postgres.resume();
    }
    const ready = await within(10_000, async () => (await instance.get("/readyz")).status === 200, 100);
    expect(ready).not.toBeNull();
    const refreshed = await instance.gql(REFRESH, { variables: { token: user.refreshToken } });
    expect(errorOf(refreshed)).toBeUndefined();
    expect(await familyViolations(cluster.db.pool)).toEqual([]);
  });
  it("crashing under a stream of refreshes: every failure is a retryable 503, nothing half-written, all carry on", async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => registerUser(instance)));
    const held = sessions.map((s) => s.refreshToken);
    const failures = new Map<string, number>();
    let phase: "before" | "down" | "after" = "before";
    let rotated = 0;
    const rotatedAfter = new Set<number>();
    let deadline = Number.POSITIVE_INFINITY;
    const client = async (index: number) => {
      while (!(phase === "after" && rotatedAfter.has(index)) && Date.now() < deadline) {
        const answer = await instance.gql<{ refresh: { refreshToken: string } }>(REFRESH, {
          variables: { token: held[index] },
        });
        const next = answer.data?.refresh.refreshToken;
        if (next) {
          held[index] = next;
          rotated += 1;
          if (phase === "after") rotatedAfter.add(index);
          continue;
        }
        const kind = `${answer.status} ${answer.errors?.map((e) => e.extensions?.code).join(",")}`;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        // A client backs off before retrying the same token.
        await sleep(50);
      }
    };
    const stream = Promise.all(held.map((_, i) => client(i)));
    while (rotated < 100) await sleep(5);
    // Like a crash: backends are killed mid-transaction, no clean shutdown.
    phase = "down";
    await postgres.stop("immediate");
    await sleep(1000);
    await postgres.start();
    phase = "after";
    deadline = Date.now() + 15_000;
    await stream;

    expect([...failures.keys()]).toEqual(["503 SERVICE_UNAVAILABLE"]);
    expect(rotatedAfter.size).toBe(sessions.length);
    const { rows } = await cluster.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM holdfast."Session" WHERE "revokedAt" IS NOT NULL AND id = ANY($1)`,
      [sessions.map((s) => s.sessionId)],
    );
    expect(Number(rows[0]!.n)).toBe(0);
    expect(await familyViolations(cluster.db.pool)).toEqual([]);
  }, 60_000);
});
