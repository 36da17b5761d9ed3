import { afterEach, describe, expect, it } from "vitest";
import { boundLogin } from "../dpop/dpop-client.js";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import { errorOf, REFRESH, registerUser, startTestServer, type TestServer } from "../support/test-server.js";
import { basic, introspect, OAUTH_TEST_ENV, postForm, RS_CLIENT, RS_SECRET } from "./oauth-support.js";

const REVOKE_URL = "http://localhost:4000/oauth/revoke";
let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  t = await startTestServer({ ...OAUTH_TEST_ENV, ...env });
  return t;
}

describe("POST /oauth/revoke (RFC 7009)", () => {
  it("ends the session of a refresh token, as logout does: its access token is refused at once", async () => {
    const t = await start();
    const user = await registerUser(t);
    const res = await postForm(t, "/oauth/revoke", {
      token: user.refreshToken!,
      token_type_hint: "refresh_token",
    });
    expect(res.status).toBe(200);
    expect(errorOf(await t.gql("{ me { id } }", { token: user.accessToken }))).toEqual({
      code: "UNAUTHENTICATED",
      reason: "token_revoked",
    });
    expect(errorOf(await t.gql(REFRESH, { variables: { token: user.refreshToken } }))?.code).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("revokes an access token (its session) with client_secret_basic", async () => {
    const t = await start();
    const user = await registerUser(t);
    const res = await postForm(
      t,
      "/oauth/revoke",
      { token: user.accessToken },
      { authorization: basic(RS_CLIENT, RS_SECRET) },
    );
    expect(res.status).toBe(200);
    expect((await introspect(t, user.accessToken)).body).toEqual({ active: false });
    expect(errorOf(await t.gql("{ me { id } }", { token: user.accessToken }))?.reason).toBe("token_revoked");
  });

  it("answers 200 for unknown, malformed and already revoked tokens (§2.2)", async () => {
    const t = await start();
    const user = await registerUser(t);
    for (const token of ["A".repeat(43), "nonsense", "a.b.c", user.refreshToken!, user.refreshToken!]) {
      expect((await postForm(t, "/oauth/revoke", { token })).status).toBe(200);
    }
  });

  it("refuses wrong client credentials (a public caller sends none)", async () => {
    const t = await start();
    const user = await registerUser(t);
    const res = await postForm(
      t,
      "/oauth/revoke",
      { token: user.refreshToken! },
      { authorization: basic(RS_CLIENT, "wrong-secret-value-here") },
    );
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "invalid_client" });
    expect((await introspect(t, user.refreshToken!)).body?.active).toBe(true);
  });

  it("limits public revocation requests per address (429 with Retry-After)", async () => {
    const t = await start({ RATE_LIMIT_OAUTH_PER_CLIENT_PER_MINUTE: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await postForm(t, "/oauth/revoke", { token: "A".repeat(43) })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  describe("a DPoP-bound token", () => {
    it("is not revoked without a proof, with client credentials or without", async () => {
      const t = await start();
      const { payload } = await boundLogin(t);
      for (const headers of [{}, { authorization: basic(RS_CLIENT, RS_SECRET) }]) {
        for (const token of [payload.accessToken, payload.refreshToken!]) {
          const res = await postForm(t, "/oauth/revoke", { token }, headers);
          expect(res.status).toBe(400);
          expect(res.body?.error).toBe("invalid_dpop_proof");
        }
      }
      expect((await introspect(t, payload.accessToken)).body?.active).toBe(true);
    });

    it("is not revoked with a proof from another key, or one made for another endpoint", async () => {
      const t = await start();
      const { client, payload } = await boundLogin(t);
      const stranger = await createDpopKey();
      const proofs = [
        await createDpopProof(stranger, { htm: "POST", htu: REVOKE_URL, iat: t.clock.now() }),
        await client.proof({ htu: "http://localhost:4000/graphql" }),
        await client.proof({ htu: REVOKE_URL, htm: "GET" }),
      ];
      for (const dpop of proofs) {
        const res = await postForm(t, "/oauth/revoke", { token: payload.refreshToken! }, { dpop });
        expect(res.status).toBe(400);
      }
      expect((await introspect(t, payload.refreshToken!)).body?.active).toBe(true);
    });

    it("is revoked with a proof from its key (refresh token; access token with ath)", async () => {
      const t = await start();
      const first = await boundLogin(t);
      const res = await postForm(
        t,
        "/oauth/revoke",
        { token: first.payload.refreshToken! },
        { dpop: await first.client.proof({ htu: REVOKE_URL }) },
      );
      expect(res.status).toBe(200);
      expect((await introspect(t, first.payload.accessToken)).body).toEqual({ active: false });

      const second = await boundLogin(t);
      const withoutAth = await postForm(
        t,
        "/oauth/revoke",
        { token: second.payload.accessToken },
        { dpop: await second.client.proof({ htu: REVOKE_URL }) },
      );
      expect(withoutAth.status).toBe(400);
      const withAth = await postForm(
        t,
        "/oauth/revoke",
        { token: second.payload.accessToken },
        { dpop: await second.client.proof({ htu: REVOKE_URL, accessToken: second.payload.accessToken }) },
      );
      expect(withAth.status).toBe(200);
      expect((await introspect(t, second.payload.accessToken)).body).toEqual({ active: false });
    });
  });
});

describe("discovery", () => {
  it("publishes authorization server metadata (RFC 8414)", async () => {
    const t = await start();
    const res = await t.server.app.inject({ method: "GET", url: "/.well-known/oauth-authorization-server" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      issuer: "http://localhost:4000",
      jwks_uri: "http://localhost:4000/.well-known/jwks.json",
      introspection_endpoint: "http://localhost:4000/oauth/introspect",
      introspection_endpoint_auth_methods_supported: ["client_secret_basic"],
      revocation_endpoint: "http://localhost:4000/oauth/revoke",
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "none"],
      dpop_signing_alg_values_supported: expect.arrayContaining(["EdDSA", "ES256"]),
    });
  });

  it("publishes protected resource metadata (RFC 9728), and 401 challenges point to it (§5.1)", async () => {
    const t = await start();
    const res = await t.server.app.inject({ method: "GET", url: "/.well-known/oauth-protected-resource" });
    expect(res.json()).toMatchObject({
      resource: "http://localhost:4000",
      authorization_servers: ["http://localhost:4000"],
      bearer_methods_supported: ["header"],
      dpop_signing_alg_values_supported: expect.arrayContaining(["EdDSA", "ES256"]),
      scopes_supported: expect.arrayContaining(["notes:read", "notes:write"]),
    });
    const refused = await t.gql("{ me { id } }", { token: "garbage.token.value" });
    expect(refused.status).toBe(401);
    expect(refused.headers["www-authenticate"]).toContain(
      'resource_metadata="http://localhost:4000/.well-known/oauth-protected-resource"',
    );
    const bound = await boundLogin(t);
    const dpopRefused = await t.gql("{ me { id } }", { authorization: `DPoP ${bound.payload.accessToken}` });
    expect(dpopRefused.status).toBe(401);
    expect(dpopRefused.headers["www-authenticate"]).toMatch(
      /^DPoP .*resource_metadata="http:\/\/localhost:4000\//,
    );
  });
});
