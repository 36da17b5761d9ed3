// DPoP-bound tokens at connection_init and in a renewal: the proof is made for GET and the
// endpoint's HTTP URL (PUBLIC_URL + /graphql), with `ath`, and checked by the HTTP verifier and
// replay store (RFC 9449 §4.3, §7.1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundLogin, DPOP_TEST_ENV, ENDPOINT } from "../dpop/dpop-client.js";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import { REFRESH, startTestServer, type TestServer } from "../support/test-server.js";
import { subscribeAs } from "./support/live-harness.js";
import { closeOf, connect } from "./support/ws-client.js";

let t: TestServer;
let base: string;

beforeAll(async () => {
  t = await startTestServer(DPOP_TEST_ENV);
  base = await t.listen();
});
afterAll(() => t.close());

/** A proof for the WebSocket: GET of the endpoint's URL, bound to the token, at the server's time. */
const wsProof = (
  key: Parameters<typeof createDpopProof>[0],
  accessToken: string,
  overrides: Partial<Parameters<typeof createDpopProof>[1]> = {},
) => createDpopProof(key, { htm: "GET", htu: ENDPOINT, iat: t.clock.now(), accessToken, ...overrides });

async function refusal(payload: Record<string, unknown>) {
  const client = await connect(base);
  return client.init(payload).then(
    () => ({ accepted: true }),
    (closed: { code: number; reason: string }) => ({ code: closed.code, reason: closed.reason }),
  );
}

describe("a DPoP-bound token at connection_init", () => {
  it("is accepted with the DPoP scheme and a proof for GET of the endpoint, bound by ath", async () => {
    const { client, payload } = await boundLogin(t);
    const socket = await connect(base);
    const ack = await socket.init({
      authorization: `DPoP ${payload.accessToken}`,
      dpop: await wsProof(client.key, payload.accessToken),
    });
    expect(ack).toEqual({ expiresAt: expect.any(String) });
    socket.close();
  });

  it("is refused without a proof, or sent as Bearer (dpop_required)", async () => {
    const { client, payload } = await boundLogin(t);
    expect(await refusal({ authorization: `DPoP ${payload.accessToken}` })).toEqual({
      code: 4401,
      reason: "dpop_required",
    });
    expect(
      await refusal({
        authorization: `Bearer ${payload.accessToken}`,
        dpop: await wsProof(client.key, payload.accessToken),
      }),
    ).toEqual({ code: 4401, reason: "dpop_required" });
  });

  it("is refused with a proof for the wrong method, the wrong URL, without ath, or from another key", async () => {
    const { client, payload } = await boundLogin(t);
    const token = payload.accessToken;
    const other = await createDpopKey();
    const cases = {
      method: await wsProof(client.key, token, { htm: "POST" }),
      url: await wsProof(client.key, token, { htu: "http://localhost:4000/other" }),
      ath: await createDpopProof(client.key, { htm: "GET", htu: ENDPOINT, iat: t.clock.now() }),
      key: await wsProof(other, token),
    };
    for (const [name, dpop] of Object.entries(cases)) {
      expect({ name, ...(await refusal({ authorization: `DPoP ${token}`, dpop })) }).toEqual({
        name,
        code: 4401,
        reason: "invalid_dpop_proof",
      });
    }
  });

  it("refuses a replayed proof (the HTTP replay store)", async () => {
    const { client, payload } = await boundLogin(t);
    const init = {
      authorization: `DPoP ${payload.accessToken}`,
      dpop: await wsProof(client.key, payload.accessToken),
    };
    const first = await connect(base);
    await first.init(init);
    expect(await refusal(init)).toEqual({ code: 4401, reason: "invalid_dpop_proof" });
    first.close();
  });

  it("renews in band with a fresh token and a fresh proof; a replayed or foreign proof closes 4401", async () => {
    const { client, payload } = await boundLogin(t);
    const a = await subscribeAs(t, base, `DPoP ${payload.accessToken}`).catch(() => null);
    // subscribeAs sends no proof: a bound token needs one, so the connection was refused.
    expect(a).toBeNull();

    const socket = await connect(base);
    await socket.init({
      authorization: `DPoP ${payload.accessToken}`,
      dpop: await wsProof(client.key, payload.accessToken),
    });
    const refreshed = await t.gql<{ refresh: { accessToken: string } }>(REFRESH, {
      variables: { token: payload.refreshToken },
      headers: await client.headers(),
    });
    const renewed = refreshed.body.data?.refresh.accessToken;
    expect(renewed).toBeTruthy();
    const ping = { authorization: `DPoP ${renewed}`, dpop: await wsProof(client.key, renewed!) };
    socket.send({ type: "ping", payload: ping });
    expect((await socket.next((m) => m.type === "pong")).payload).toEqual({ expiresAt: expect.any(String) });
    socket.send({ type: "ping", payload: ping });
    expect(await closeOf(socket)).toEqual({ code: 4401, reason: "invalid_dpop_proof" });
  });
});

describe("with server nonces (RFC 9449 §8)", () => {
  let n: TestServer;
  let nBase: string;
  beforeAll(async () => {
    n = await startTestServer({ ...DPOP_TEST_ENV, DPOP_NONCE: "true" });
    nBase = await n.listen();
  });
  afterAll(() => n.close());

  it("closes 4401 use_dpop_nonce without a nonce, and accepts the nonce of any HTTP answer", async () => {
    const key = await createDpopKey();
    const htu = ENDPOINT;
    const first = await n.gql("{ __typename }");
    const nonce = String(first.headers["dpop-nonce"]);
    const register = await n.gql<{ register: { accessToken: string } }>(
      `mutation { register(input: { email: "nonce-${Date.now()}@example.com", password: "correct horse battery staple", displayName: "N", refreshTokenDelivery: BODY }) { accessToken } }`,
      { headers: { dpop: await createDpopProof(key, { htm: "POST", htu, iat: n.clock.now(), nonce }) } },
    );
    const token = register.body.data?.register.accessToken;
    expect(token).toBeTruthy();

    const without = await connect(nBase);
    await expect(
      without.init({
        authorization: `DPoP ${token}`,
        dpop: await createDpopProof(key, { htm: "GET", htu, iat: n.clock.now(), accessToken: token! }),
      }),
    ).rejects.toMatchObject({ code: 4401, reason: "use_dpop_nonce" });

    const withNonce = await connect(nBase);
    await withNonce.init({
      authorization: `DPoP ${token}`,
      dpop: await createDpopProof(key, { htm: "GET", htu, iat: n.clock.now(), accessToken: token!, nonce }),
    });
    withNonce.close();
  });
});
