// Attack: flood the in-memory replay cache (no Redis) with fresh proofs so that it forgets an
// earlier, still-valid proof, then replay that proof. A full cache must refuse new proofs
// (503, retryable) and keep every unexpired identifier, so the replay is still caught (RFC 9449 §11.1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { boundLogin, DPOP_TEST_ENV, ENDPOINT, ME } from "./dpop-client.js";

const MAX_ENTRIES = 5;
let t: TestServer;
let base: string;

beforeAll(async () => {
  t = await startTestServer({ ...DPOP_TEST_ENV, DPOP_REPLAY_CACHE_MAX_ENTRIES: String(MAX_ENTRIES) });
  base = await t.listen();
});
afterAll(async () => {
  await t.close();
});

/** `{ me { id } }` over a real socket with a DPoP-bound token and the given proof. */
async function meOverHttp(accessToken: string, proof: string) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `DPoP ${accessToken}`, dpop: proof },
    body: JSON.stringify({ query: ME }),
  });
  const body = (await response.json()) as {
    data?: { me: { id: string } | null } | null;
    errors?: { extensions?: Record<string, unknown> }[];
  };
  return { status: response.status, body, retryAfter: response.headers.get("retry-after") };
}

describe("a full in-memory replay cache fails closed", () => {
  it("refuses new proofs when full, and still refuses a replay of an earlier proof after the flood", async () => {
    const { client, payload } = await boundLogin(t); // the login proof is entry 1
    const token = payload.accessToken;
    expect(new URL(ENDPOINT).pathname).toBe("/graphql");

    const earlier = await client.proof({ accessToken: token, htu: ENDPOINT });
    const first = await meOverHttp(token, earlier);
    expect(first.status).toBe(200);
    expect(first.body.data?.me?.id).toBeTruthy();

    // Fill the cache, then flood it with more fresh, valid proofs than it can hold.
    const refused: number[] = [];
    for (let i = 0; i < MAX_ENTRIES * 3; i++) {
      const res = await meOverHttp(token, await client.proof({ accessToken: token }));
      if (res.status !== 200) {
        refused.push(res.status);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          retryable: true,
        });
      }
    }
    // The earlier proof is still inside its window: replaying it is refused as a replay, not accepted.
    const replay = await meOverHttp(token, earlier);
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
    });
    expect(replay.body.data?.me ?? null).toBeNull();

    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set([503]));

    // Once the remembered proofs have expired, fresh proofs are accepted again.
    t.clock.advanceSeconds(t.config.dpop.iatWindowSeconds + 2);
    const after = await meOverHttp(token, await client.proof({ accessToken: token }));
    expect(after.status).toBe(200);
    expect(after.body.data?.me?.id).toBe(first.body.data?.me?.id);
  });
});
