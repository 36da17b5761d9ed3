// RFC 9449 §11.1 across instances: with REDIS_URL set, the jti replay cache is shared, so a proof
// accepted by one instance is refused by another. Needs Redis on 127.0.0.1:6379.
import { Redis } from "ioredis";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisReplayStore } from "../../src/auth/dpop/index.js";
import type { Database } from "../../src/db/database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { boundLogin, DPOP_TEST_ENV, expectRefused, ME } from "./dpop-client.js";

const REDIS_ENV = { ...DPOP_TEST_ENV, REDIS_URL: "redis://127.0.0.1:6379" };

/** Two instances over one database (so one set of signing keys) and one clock. */
async function pair(env: Record<string, string>): Promise<[TestServer, TestServer]> {
  const a = await startTestServer(env);
  const b = await startTestServer(env, {
    clock: a.clock,
    database: a.database as Database & { url: string },
  });
  return [a, b];
}

describe("a proof replayed to a second instance", () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    [a, b] = await pair(REDIS_ENV);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("is refused when the instances share Redis", async () => {
    const { client, payload } = await boundLogin(a);
    const proof = await client.proof({ accessToken: payload.accessToken });
    const send = (server: TestServer) =>
      server.gql(ME, { authorization: `DPoP ${payload.accessToken}`, headers: { dpop: proof } });
    expect((await send(a)).status).toBe(200);
    expectRefused(await send(b), "invalid_dpop_proof", "invalid_dpop_proof");
    // The shared record is in Redis, under the key's thumbprint and the proof's jti.
    const redis = new Redis(REDIS_ENV.REDIS_URL, { lazyConnect: true });
    try {
      const key = new RedisReplayStore(redis, a.clock).keyFor(
        `${client.key.jkt}:${String(decodeJwt(proof).jti)}`,
      );
      expect(await redis.exists(key)).toBe(1);
    } finally {
      redis.disconnect();
    }
    // Instance b serves the same token with a fresh proof: only the replay was refused.
    expect((await client.me(payload.accessToken)).status).toBe(200);
    const fresh = await client.proof({ accessToken: payload.accessToken });
    expect(
      (await b.gql(ME, { authorization: `DPoP ${payload.accessToken}`, headers: { dpop: fresh } })).status,
    ).toBe(200);
  });

  it("is refused when it was a login proof, replayed to log in on the other instance", async () => {
    const { client, email } = await boundLogin(a);
    const proof = await client.proof();
    const login = (server: TestServer) =>
      server.gql(
        `mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { tokenType } }`,
        { headers: { dpop: proof } },
      );
    expect((await login(b)).status).toBe(200);
    expectRefused(await login(a), "invalid_dpop_proof", "invalid_dpop_proof");
  });
});

describe("without Redis (the embedded default)", () => {
  it("each instance remembers only its own proofs: why several instances need REDIS_URL", async () => {
    const [a, b] = await pair(DPOP_TEST_ENV);
    try {
      const { client, payload } = await boundLogin(a);
      const proof = await client.proof({ accessToken: payload.accessToken });
      const send = (server: TestServer) =>
        server.gql(ME, { authorization: `DPoP ${payload.accessToken}`, headers: { dpop: proof } });
      expect((await send(a)).status).toBe(200);
      expect((await send(b)).status).toBe(200);
      expectRefused(await send(a), "invalid_dpop_proof", "invalid_dpop_proof");
    } finally {
      await b.close();
      await a.close();
    }
  });
});
