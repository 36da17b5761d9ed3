// Redis stopped under two running instances (a private Redis: the shared one serves other tests).
// Requests are still served; revocations travel through the database (polled every
// REVOCATION_POLL_SECONDS) until Redis is back, then through pub/sub again.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { signedRevocationMessage } from "../../src/auth/sessions/redis-revocation-bus.js";
import { RevocationChannelSigner } from "../../src/auth/sessions/revocation-channel-signer.js";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import {
  CLUSTER_ENV,
  errorOf,
  GRAPHQL_URL,
  type Instance,
  REFRESH,
  registerUser,
  usePairOnPrivateRedis,
  within,
} from "./cluster.js";

const POLL_SECONDS = 2;
const ME = "{ me { id } }";

const { redis, cluster, a, b } = usePairOnPrivateRedis(POLL_SECONDS);

const redisState = async (instance: Instance) =>
  ((await instance.get("/readyz")).body as { checks: { redis?: string } }).checks.redis;

/** Waits until both instances' /readyz report Redis as `state`: the elapsed ms, or null. */
const bothReport = (state: "ok" | "down", timeoutMs: number) =>
  within(timeoutMs, async () => (await redisState(a)) === state && (await redisState(b)) === state, 100);

const refusedAsRevoked = (instance: Instance, token: string) => async () => {
  const answer = await instance.gql(ME, { token });
  return answer.status === 401 && errorOf(answer)?.reason === "token_revoked";
};

describe("Redis stopped during a run", () => {
  it("serves requests, carries a logout by database polling, and returns to pub/sub when Redis is back", async () => {
    expect(await redisState(a)).toBe("ok");
    expect(await redisState(b)).toBe("ok");
    const user = await registerUser(a);
    const other = await registerUser(a);
    const key = await createDpopKey();
    const bound = await registerUser(a, await createDpopProof(key, { htm: "POST", htu: GRAPHQL_URL }));

    await redis.stop();

    // Both notice, and say so in /readyz, which stays 200: Redis degrades service, it does not stop it.
    const noticed = await bothReport("down", 5000);
    expect(noticed).not.toBeNull();
    const ready = await a.get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ checks: { database: "ok", redis: "down" } });

    // Requests are served: token checks, data, refresh, a new login.
    expect((await b.gql<{ me: { id: string } }>(ME, { token: user.accessToken })).data?.me?.id).toBe(
      user.userId,
    );
    const refreshed = await b.gql(REFRESH, { variables: { token: user.refreshToken } });
    expect(errorOf(refreshed)).toBeUndefined();
    expect((await registerUser(b)).accessToken).toBeTruthy();
    // DPoP replay detection falls back to each instance's memory: a replay to the same instance is still caught.
    const proof = await createDpopProof(key, {
      htm: "POST",
      htu: GRAPHQL_URL,
      accessToken: bound.accessToken,
    });
    const authorization = `DPoP ${bound.accessToken}`;
    expect((await a.gql<{ me: { id: string } }>(ME, { authorization, dpop: proof })).data?.me?.id).toBe(
      bound.userId,
    );
    expect(errorOf(await a.gql(ME, { authorization, dpop: proof }))).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
    });

    // A logout on A reaches B through the database within the poll interval (+1 s).
    expect((await b.gql<{ me: { id: string } }>(ME, { token: other.accessToken })).data?.me?.id).toBe(
      other.userId,
    );
    expect((await a.gql("mutation { logout }", { token: other.accessToken })).errors).toBeUndefined();
    const polled = await within((POLL_SECONDS + 1) * 1000, refusedAsRevoked(b, other.accessToken));
    expect(polled).not.toBeNull();
    // Said in the log: by the feed when its heartbeats stop coming back, or by the polling timer,
    // whichever comes first (the logout may be refused by the immediate poll before the timer ticks).
    expect(
      b.logs.some((line) => /polling the database|revocations are polled from the database/.test(line)),
    ).toBe(true);

    await redis.start();

    const back = await bothReport("ok", 10_000);
    expect(back).not.toBeNull();
    // Pub/sub again: a revocation that exists only as a Redis message (no database row, so polling
    // cannot find it) reaches B.
    const publisher = new Redis(redis.url);
    try {
      // Signed with the secret every instance holds (unsigned ones are ignored).
      const channel = `${cluster.prefix}revocations`;
      const signer = new RevocationChannelSigner(CLUSTER_ENV.REVOCATION_CHANNEL_SECRET!, channel);
      const message = signedRevocationMessage(signer, [
        { sessionId: user.sessionId, until: new Date(Date.now() + 600_000) },
      ]);
      expect(await publisher.publish(channel, message)).toBeGreaterThanOrEqual(2);
    } finally {
      publisher.disconnect();
    }
    expect(await within(1000, refusedAsRevoked(b, user.accessToken))).not.toBeNull();
    expect(await within(1000, refusedAsRevoked(a, user.accessToken))).not.toBeNull();
  });
  it("does not hang on a Redis that stops answering (SIGSTOP): requests are served and B falls back to polling", async () => {
    const user = await registerUser(a);
    const other = await registerUser(a);
    expect((await b.gql<{ me: { id: string } }>(ME, { token: other.accessToken })).data?.me?.id).toBe(
      other.userId,
    );
    redis.pause();
    try {
      // Connections stay open and nothing answers: each command has a 1 s bound, and a heartbeat
      // drops the silent connection, after which commands fail at once and the fallbacks take over.
      const bounded = { signal: AbortSignal.timeout(10_000) };
      const refreshed = await b.gql(REFRESH, { variables: { token: user.refreshToken }, ...bounded });
      expect(errorOf(refreshed)).toBeUndefined();
      const noticed = await bothReport("down", 5000);
      expect(noticed).not.toBeNull();
      expect(
        (await a.gql("mutation { logout }", { token: other.accessToken, ...bounded })).errors,
      ).toBeUndefined();
      expect(await within((POLL_SECONDS + 1) * 1000, refusedAsRevoked(b, other.accessToken))).not.toBeNull();
    } finally {
      redis.resume();
    }
    const back = await bothReport("ok", 10_000);
    expect(back).not.toBeNull();
  });
});
