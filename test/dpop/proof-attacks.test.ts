// Every RFC 9449 §4.3 check, attacked through the whole server: a bound access token presented with a
// proof that differs from a valid one in exactly one way. Each refusal is an HTTP 401 with a stable
// reason and a DPoP challenge (RFC 9449 §7.1) naming the accepted algorithms.
import { exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import { athFor, createDpopProof } from "../support/dpop-proof.js";
import { type AuthPayload, errorOf, startTestServer, useTestServer } from "../support/test-server.js";
import {
  boundLogin,
  DPOP_TEST_ENV,
  type DpopClient,
  dpopClient,
  ENDPOINT,
  expectRefused,
  ME,
  type ProofOverrides,
} from "./dpop-client.js";

const t = useTestServer(DPOP_TEST_ENV);

/** A fresh bound login per test: no test can lean on another's replay cache or clock. */
async function bound(): Promise<{ client: DpopClient; payload: AuthPayload }> {
  const { client, payload } = await boundLogin(t);
  return { client, payload };
}

/** `{ me { id } }` as a GET (query in the URL) with a DPoP-bound token and the given proof. */
function getMe(accessToken: string, proof: string) {
  return t.server.app.inject({
    method: "GET",
    url: `/graphql?query=${encodeURIComponent(ME)}`,
    headers: { authorization: `DPoP ${accessToken}`, dpop: proof, "apollo-require-preflight": "true" },
  });
}

/** A fresh bound login whose token is sent with a proof made with `options`: the proof must be refused. */
async function expectProofRefused(options: (client: DpopClient) => ProofOverrides): Promise<void> {
  const { client, payload } = await bound();
  const proof = await client.proof({ accessToken: payload.accessToken, ...options(client) });
  expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
}

/** `{ me }` with the DPoP scheme and exactly the given DPoP header values. */
function meWith(accessToken: string, dpop: string | string[] | null, scheme = "DPoP") {
  return t.gql<{ me: { id: string } | null }>(ME, {
    authorization: `${scheme} ${accessToken}`,
    ...(dpop === null ? {} : { headers: { dpop } }),
  });
}

describe("the baseline the attacks deviate from", () => {
  it("accepts a bound token with the DPoP scheme and one valid proof", async () => {
    const { client, payload } = await bound();
    const res = await meWith(payload.accessToken, await client.proof({ accessToken: payload.accessToken }));
    expect(res.status).toBe(200);
    expect(res.body.data?.me?.id).toBe(payload.user.id);
  });
});

describe("a bound access token is refused when the DPoP header", () => {
  it("is missing", async () => {
    const { payload } = await bound();
    expectRefused(await meWith(payload.accessToken, null), "dpop_required", "invalid_token");
  });

  it("appears twice, even with two valid proofs (§4.3 item 1)", async () => {
    const { client, payload } = await bound();
    const a = await client.proof({ accessToken: payload.accessToken });
    const b = await client.proof({ accessToken: payload.accessToken });
    expectRefused(await meWith(payload.accessToken, [a, b]), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("holds two proofs joined by a comma in one value", async () => {
    const { client, payload } = await bound();
    const a = await client.proof({ accessToken: payload.accessToken });
    const b = await client.proof({ accessToken: payload.accessToken });
    expectRefused(
      await meWith(payload.accessToken, `${a}, ${b}`),
      "invalid_dpop_proof",
      "invalid_dpop_proof",
    );
  });
});

describe("a bound access token is refused with the wrong scheme", () => {
  it("as Bearer, with a valid proof beside it (RFC 9449 §7.2)", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({ accessToken: payload.accessToken });
    expectRefused(await meWith(payload.accessToken, proof, "Bearer"), "dpop_required", "invalid_token");
  });

  it("as Bearer, without a proof", async () => {
    const { payload } = await bound();
    expectRefused(await meWith(payload.accessToken, null, "Bearer"), "dpop_required", "invalid_token");
  });

  it("and an unbound token is refused under the DPoP scheme", async () => {
    const client = await dpopClient(t);
    const { email } = await boundLogin(t, client);
    const login = await t.gql<{ login: AuthPayload }>(
      `mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { accessToken tokenType } }`,
    );
    const bearer = login.body.data!.login.accessToken;
    const res = await meWith(bearer, await client.proof({ accessToken: bearer }));
    expectRefused(res, "invalid_token", "invalid_token");
  });
});

describe("a bound access token is refused with a proof whose header", () => {
  it("says typ JWT (§4.3 item 4)", async () => {
    await expectProofRefused(() => ({ overrideHeader: { typ: "JWT" } }));
  });

  it("says alg none, with an empty signature (§4.3 item 5)", async () => {
    await expectProofRefused(() => ({ overrideHeader: { alg: "none" }, signWith: "none" }));
  });

  it("says HS256, MACed with the public key as the secret (alg confusion)", async () => {
    await expectProofRefused((client) => ({
      overrideHeader: { alg: "HS256" },
      signWith: { hmacSecret: JSON.stringify(client.key.publicJwk) },
    }));
  });

  it("carries a jwk whose private key did not sign it (§4.3 item 6)", async () => {
    const { client, payload } = await bound();
    const stranger = await dpopClient(t);
    const proof = await client.proof({ accessToken: payload.accessToken, signWith: stranger.key });
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("carries the private key (d) in its jwk (§4.3 item 7)", async () => {
    const { client, payload } = await bound();
    const { d } = await exportJWK(client.key.privateKey);
    expect(d).toEqual(expect.any(String));
    const proof = await client.proof({
      accessToken: payload.accessToken,
      overrideHeader: { jwk: { ...client.key.publicJwk, d } },
    });
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("names another key than the token's cnf.jkt, even with a perfect proof of it (§4.3 item 12)", async () => {
    const { payload } = await bound();
    const thief = await dpopClient(t);
    const proof = await thief.proof({ accessToken: payload.accessToken });
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });
});

describe("a bound access token is refused with a proof whose claims", () => {
  it.each([
    ["another method", "GET"],
    ["the method in lower case", "post"],
  ])("have htm with %s (§4.3 item 8)", async (_, htm) => {
    await expectProofRefused(() => ({ htm }));
  });

  it.each([
    ["another host", "http://127.0.0.1:4000/graphql"],
    ["a foreign host", "http://evil.example:4000/graphql"],
    ["another port", "http://localhost:4001/graphql"],
    ["the default port instead of the configured one", "http://localhost/graphql"],
    ["another path", "http://localhost:4000/other"],
    ["a trailing slash", "http://localhost:4000/graphql/"],
    ["another scheme", "https://localhost:4000/graphql"],
  ])("have htu with %s (§4.3 item 9)", async (_, htu) => {
    await expectProofRefused(() => ({ htu }));
  });

  it("have an htu naming the Host header's host: htu is compared with the configured public URL", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({
      accessToken: payload.accessToken,
      htu: "http://evil.example/graphql",
    });
    const res = await t.gql(ME, {
      authorization: `DPoP ${payload.accessToken}`,
      headers: { dpop: proof, host: "evil.example", "x-forwarded-host": "evil.example" },
    });
    expectRefused(res, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("have no jti (§4.3 item 3)", async () => {
    await expectProofRefused(() => ({ overridePayload: { jti: undefined } }));
  });

  it("have no ath (§4.3 item 12)", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof();
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("have the ath of another access token of the same key", async () => {
    const { client, payload } = await bound();
    const other = await client.login(payload.user.email);
    const otherToken = other.body.data!.login.accessToken;
    expect(otherToken).not.toBe(payload.accessToken);
    const proof = await client.proof({ accessToken: otherToken });
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("have a padded ath (base64url has no padding, RFC 7515 §2)", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({ ath: `${athFor(payload.accessToken)}=` });
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });
});

describe("htu ignores query and fragment (RFC 9449 §4.3 item 9)", () => {
  it("accepts a proof whose htu carries a query and a fragment", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({ accessToken: payload.accessToken, htu: `${ENDPOINT}?a=1#frag` });
    expect((await meWith(payload.accessToken, proof)).body.data?.me?.id).toBe(payload.user.id);
  });

  it("accepts a GET whose URL carries the query, with a proof for GET and the bare endpoint", async () => {
    const { client, payload } = await bound();
    const response = await getMe(
      payload.accessToken,
      await client.proof({ accessToken: payload.accessToken, htm: "GET" }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().data.me.id).toBe(payload.user.id);
  });

  it("refuses that GET when the proof was made for POST", async () => {
    const { client, payload } = await bound();
    const response = await getMe(
      payload.accessToken,
      await client.proof({ accessToken: payload.accessToken }),
    );
    expect(response.statusCode).toBe(401);
    expect(response.json().errors[0].extensions.reason).toBe("invalid_dpop_proof");
  });
});

describe("iat is bounded to ±DPOP_IAT_WINDOW_SECONDS (default 60) around the server clock", () => {
  it("refuses a proof that has gone stale while the access token is still valid (§4.3 item 11)", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({ accessToken: payload.accessToken });
    t.clock.advanceSeconds(61);
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
    // The token itself is fine: a fresh proof is accepted at the same moment.
    expect((await client.me(payload.accessToken)).body.data?.me?.id).toBe(payload.user.id);
  });

  it("refuses a proof dated 61 s ahead and accepts one 60 s ahead", async () => {
    const { client, payload } = await bound();
    const ahead = (s: number) => new Date(t.clock.now().getTime() + s * 1000);
    const early = await client.proof({ accessToken: payload.accessToken, iat: ahead(61) });
    expectRefused(await meWith(payload.accessToken, early), "invalid_dpop_proof", "invalid_dpop_proof");
    const edge = await client.proof({ accessToken: payload.accessToken, iat: ahead(60) });
    expect((await meWith(payload.accessToken, edge)).status).toBe(200);
  });

  it("follows a configured window", async () => {
    const narrow = await startTestServer({ ...DPOP_TEST_ENV, DPOP_IAT_WINDOW_SECONDS: "10" });
    try {
      const { client, payload } = await boundLogin(narrow);
      const proof = await client.proof({ accessToken: payload.accessToken });
      narrow.clock.advanceSeconds(11);
      const res = await narrow.gql(ME, {
        authorization: `DPoP ${payload.accessToken}`,
        headers: { dpop: proof },
      });
      expectRefused(res, "invalid_dpop_proof", "invalid_dpop_proof");
      const fresh = await client.me(payload.accessToken);
      expect(errorOf(fresh)).toBeUndefined();
    } finally {
      await narrow.close();
    }
  });
});

describe("a proof is used once (§4.3 item 10, §11.1)", () => {
  it("refuses a replayed proof on the same instance, however soon", async () => {
    const { client, payload } = await bound();
    const proof = await client.proof({ accessToken: payload.accessToken });
    expect((await meWith(payload.accessToken, proof)).status).toBe(200);
    expectRefused(await meWith(payload.accessToken, proof), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("refuses a login proof replayed on a second login", async () => {
    const client = await dpopClient(t);
    const { email } = await boundLogin(t, client);
    const proof = await client.proof();
    const first = await t.gql(
      `mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { tokenType } }`,
      { headers: { dpop: proof } },
    );
    expect(errorOf(first)).toBeUndefined();
    const again = await t.gql(
      `mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { tokenType } }`,
      { headers: { dpop: proof } },
    );
    expectRefused(again, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("refuses a jti reused in a new, validly signed proof of the same key", async () => {
    const { client, payload } = await bound();
    const jti = "the-same-jti-twice";
    expect(
      (await meWith(payload.accessToken, await client.proof({ accessToken: payload.accessToken, jti })))
        .status,
    ).toBe(200);
    const second = await createDpopProof(client.key, {
      htm: "POST",
      htu: ENDPOINT,
      iat: t.clock.now(),
      accessToken: payload.accessToken,
      jti,
    });
    expectRefused(await meWith(payload.accessToken, second), "invalid_dpop_proof", "invalid_dpop_proof");
  });
});
