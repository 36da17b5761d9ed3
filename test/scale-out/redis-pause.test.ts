// Redis paused for writes under two running instances (`CLIENT PAUSE … WRITE`, what a Redis
// `FAILOVER` does): PING still answers and the connections stay "ready", but every PUBLISH waits.
// Each instance must see that its own heartbeats no longer come back, poll the database, and so
// refuse a logged-out token within the polling bound, not when Redis resumes.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { errorOf, type Instance, registerUser, usePairOnPrivateRedis, within } from "./cluster.js";

const POLL_SECONDS = 2;
const PAUSE_MS = 12_000;
const ME = "{ me { id } }";

const { redis, a, b } = usePairOnPrivateRedis(POLL_SECONDS);

const readiness = async (instance: Instance) =>
  ((await instance.get("/readyz")).body as { checks: Record<string, string> }).checks;

describe("Redis paused for writes", () => {
  it("refuses a token logged out on A at B within the polling bound, and says so in /readyz", async () => {
    expect(await readiness(b)).toMatchObject({ redis: "ok" });
    const user = await registerUser(a);
    expect((await b.gql(ME, { token: user.accessToken })).status).toBe(200);

    const admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    try {
      await admin.call("CLIENT", "PAUSE", String(PAUSE_MS), "WRITE");
      const pausedAt = Date.now();
      // The logout commits; its PUBLISH waits in the paused Redis (it is not awaited past the commit).
      const out = await a.gql<{ logout: boolean }>("mutation { logout }", { token: user.accessToken });
      expect(out.data?.logout).toBe(true);
      const answeredAt = Date.now();

      const refusedAfterMs = await within(
        PAUSE_MS,
        async () => {
          const answer = await b.gql(ME, { token: user.accessToken });
          return answer.status === 401 && errorOf(answer)?.reason === "token_revoked";
        },
        50,
      );
      expect(refusedAfterMs).not.toBeNull();
      // The feed is known unhealthy after the heartbeat bound (1 s), then polled at once and every
      // POLL_SECONDS: the logout bites within about the heartbeat bound plus one polling interval.
      const sinceAnswerMs = Date.now() - answeredAt;
      expect(sinceAnswerMs).toBeLessThan(1000 + POLL_SECONDS * 1000 + 1000);
      expect(Date.now() - pausedAt).toBeLessThan(PAUSE_MS);
      expect(await readiness(b)).toMatchObject({ redis: "down", revocations: "polling" });
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => {});
      admin.disconnect();
    }
    const back = await within(10_000, async () => (await readiness(b)).revocations === "pubsub", 100);
    expect(back).not.toBeNull();
  });
});
