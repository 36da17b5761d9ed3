// Interop with the library OAuth users already use: panva's oauth4webapi discovers Holdfast, introspects
// and revokes with client_secret_basic, and makes the DPoP proofs Holdfast's GraphQL endpoint accepts.
// Real HTTP: the server listens on a loopback port behind a tiny "reverse proxy" (a custom fetch), so
// the library addresses the configured public URL, as a deployment would.
import { calculateJwkThumbprint, exportJWK } from "jose";
import * as oauth from "oauth4webapi";
import { afterEach, describe, expect, it } from "vitest";
import { createDpopProof, type DpopTestKey } from "../support/dpop-proof.js";
import {
  LOGIN,
  registerUser,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/test-server.js";
import { OAUTH_TEST_ENV, RS_CLIENT, RS_SECRET } from "./oauth-support.js";

const PUBLIC_URL = "http://localhost:4000";
const client: oauth.Client = { client_id: RS_CLIENT };

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function options(base: string) {
  return {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
      fetch(url.replace(PUBLIC_URL, base), {
        method: init.method,
        headers: init.headers,
        body: init.body as string | null,
        redirect: "manual",
      }),
    [oauth.allowInsecureRequests]: true,
  };
}

async function discover(base: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(PUBLIC_URL);
  const response = await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...options(base) });
  return oauth.processDiscoveryResponse(issuer, response);
}

async function introspect(as: oauth.AuthorizationServer, base: string, token: string) {
  const response = await oauth.introspectionRequest(
    as,
    client,
    oauth.ClientSecretBasic(RS_SECRET),
    token,
    options(base),
  );
  return oauth.processIntrospectionResponse(as, client, response);
}

describe("oauth4webapi against Holdfast (real HTTP)", () => {
  it("discovers the authorization server metadata (RFC 8414)", async () => {
    t = await startTestServer(OAUTH_TEST_ENV);
    const as = await discover(await t.listen());
    expect(as.issuer).toBe(PUBLIC_URL);
    expect(as.introspection_endpoint).toBe(`${PUBLIC_URL}/oauth/introspect`);
    expect(as.revocation_endpoint).toBe(`${PUBLIC_URL}/oauth/revoke`);
    expect(as.dpop_signing_alg_values_supported).toContain("ES256");
  });

  it("introspects, then revokes with client_secret_basic, and introspection follows the revocation", async () => {
    t = await startTestServer(OAUTH_TEST_ENV);
    const base = await t.listen();
    const as = await discover(base);
    const user = await registerUser(t);

    const live = await introspect(as, base, user.accessToken);
    expect(live).toMatchObject({ active: true, sub: user.user.id, token_type: "Bearer" });

    const revoked = await oauth.revocationRequest(
      as,
      client,
      oauth.ClientSecretBasic(RS_SECRET),
      user.refreshToken!,
      { additionalParameters: { token_type_hint: "refresh_token" }, ...options(base) },
    );
    await expect(oauth.processRevocationResponse(revoked)).resolves.toBeUndefined();
    expect((await introspect(as, base, user.accessToken)).active).toBe(false);
    expect((await introspect(as, base, user.refreshToken!)).active).toBe(false);
  });

  it("refuses a wrong client secret with the Basic challenge the library reports (RFC 6749 §5.2)", async () => {
    t = await startTestServer(OAUTH_TEST_ENV);
    const base = await t.listen();
    const as = await discover(base);
    const response = await oauth.introspectionRequest(
      as,
      client,
      oauth.ClientSecretBasic("not-the-secret-at-all"),
      "token",
      options(base),
    );
    const error = await oauth.processIntrospectionResponse(as, client, response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const failure = error as oauth.WWWAuthenticateChallengeError;
    expect(failure.status).toBe(401);
    expect(failure.cause[0]).toMatchObject({ scheme: "basic", parameters: { realm: "holdfast" } });
    expect(await failure.response.json()).toEqual({ error: "invalid_client" });
  });

  it.each(["ES256", "Ed25519"] as const)(
    "accepts %s DPoP proofs made by the library's DPoP helper at the GraphQL endpoint; introspection shows cnf",
    async (alg) => {
      t = await startTestServer(OAUTH_TEST_ENV);
      const base = await t.listen();
      const as = await discover(base);
      const keyPair = await oauth.generateKeyPair(alg);
      const dpop = oauth.DPoP(client, keyPair);
      const jkt = await dpop.calculateThumbprint();

      // Login binds the session to the key (a proof signed with the same key pair).
      const email = (await registerUser(t)).user.email;
      const publicJwk = await exportJWK(keyPair.publicKey);
      const testKey = {
        alg: alg === "Ed25519" ? "EdDSA" : alg,
        privateKey: keyPair.privateKey,
        publicKey: keyPair.publicKey,
        publicJwk,
        jkt: await calculateJwkThumbprint(publicJwk, "sha256"),
      } as unknown as DpopTestKey;
      const login = await t.gql<{ login: { accessToken: string; tokenType: string } }>(LOGIN, {
        variables: { input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
        headers: {
          dpop: await createDpopProof(testKey, {
            htm: "POST",
            htu: `${PUBLIC_URL}/graphql`,
            iat: t.clock.now(),
          }),
        },
      });
      const accessToken = login.body.data!.login.accessToken;
      expect(login.body.data!.login.tokenType).toBe("DPoP");

      const response = await oauth.protectedResourceRequest(
        accessToken,
        "POST",
        new URL(`${PUBLIC_URL}/graphql`),
        new Headers({ "content-type": "application/json" }),
        JSON.stringify({ query: "{ me { email } }" }),
        { DPoP: dpop, ...options(base) },
      );
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: { me: { email: string } } }).data.me.email).toBe(email);

      const introspection = await introspect(as, base, accessToken);
      expect(introspection).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt } });

      // The library's revocation request carries no DPoP proof: a bound token is not revoked by it.
      const revoked = await oauth.revocationRequest(
        as,
        client,
        oauth.ClientSecretBasic(RS_SECRET),
        accessToken,
        options(base),
      );
      await expect(oauth.processRevocationResponse(revoked)).rejects.toMatchObject({
        error: "invalid_dpop_proof",
      });
      expect((await introspect(as, base, accessToken)).active).toBe(true);
    },
  );
});
