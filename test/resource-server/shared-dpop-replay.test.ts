// RFC 9449 §11.1 across a service's replicas: when the verifier follows Holdfast's revocations on
// Redis, DPoP proof ids are remembered there, so a proof used at replica A is refused at replica B.
// Needs Redis on 127.0.0.1:6379 (a key prefix of its own).
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  createResourceServerVerifier,
  type ResourceServerVerifier,
} from "../../src/resource-server/index.js";
import { boundLogin } from "../dpop/dpop-client.js";
import { OAUTH_TEST_ENV } from "../oauth/oauth-support.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SERVICE_URL = "http://notes-reader.test/me";

let t: TestServer | undefined;
let replicas: ResourceServerVerifier[] = [];
let prefix: string | undefined;
afterEach(async () => {
  for (const replica of replicas) await replica.close();
  await t?.close();
  if (prefix) await clearRedisPrefix(prefix);
  t = prefix = undefined;
  replicas = [];
});

async function twoReplicas(feedOnRedis: boolean) {
  prefix = uniqueRedisPrefix();
  t = await startTestServer({ ...OAUTH_TEST_ENV, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix });
  const base = await t.listen();
  const server = t;
  for (let i = 0; i < 2; i++) {
    const replica = createResourceServerVerifier({
      issuer: "http://localhost:4000",
      audience: "holdfast",
      jwksUri: `${base}/.well-known/jwks.json`,
      now: () => server.clock.now().getTime(),
      onError: () => {},
      ...(feedOnRedis
        ? { revocations: { redis: { url: SHARED_REDIS_URL }, channel: `${prefix}security-events` } }
        : {}),
    });
    replicas.push(replica);
    await replica.start();
  }
  return { t, a: replicas[0]!, b: replicas[1]! };
}

const reasonFor = (v: ResourceServerVerifier, token: string, proof: string) =>
  v.verify({ authorization: `DPoP ${token}`, dpop: proof, method: "GET", url: SERVICE_URL }).then(
    () => "accepted",
    (error: { reason?: string }) => error.reason ?? "?",
  );

describe("DPoP proof ids at a service with several replicas", () => {
  it("refuses at replica B a proof already used at replica A when the feed is on Redis", async () => {
    const { t, a, b } = await twoReplicas(true);
    const { client, payload } = await boundLogin(t);
    const token = payload.accessToken;
    const proof = await client.proof({ htu: SERVICE_URL, htm: "GET", accessToken: token });

    expect(await reasonFor(a, token, proof)).toBe("accepted");
    expect(await reasonFor(b, token, proof)).toBe("invalid_dpop_proof");
    expect(await reasonFor(a, token, proof)).toBe("invalid_dpop_proof");
    // The record is in the shared Redis, under the feed's prefix, and nothing else of the proof is.
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}resource-server:dpop-jti:*`);
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain(String(JSON.parse(atob(proof.split(".")[1]!)).jti));
    } finally {
      redis.disconnect();
    }
    // Only the replay is refused: a fresh proof from the same key is served by B.
    const fresh = await client.proof({ htu: SERVICE_URL, htm: "GET", accessToken: token });
    expect(await reasonFor(b, token, fresh)).toBe("accepted");
  });

  it("without a Redis feed each replica remembers only its own proofs (the documented default)", async () => {
    const { t, a, b } = await twoReplicas(false);
    const { client, payload } = await boundLogin(t);
    const token = payload.accessToken;
    const proof = await client.proof({ htu: SERVICE_URL, htm: "GET", accessToken: token });
    expect(await reasonFor(a, token, proof)).toBe("accepted");
    expect(await reasonFor(a, token, proof)).toBe("invalid_dpop_proof");
    expect(await reasonFor(b, token, proof)).toBe("accepted");
  });
});
