// Interop over real HTTP: panva's oauth4webapi, an independent DPoP client, makes every proof for a
// login, `{ me }` and a refresh against the running server, and handles use_dpop_nonce with its own
// nonce cache. The server listens on a loopback port behind a tiny "reverse proxy" (a custom fetch):
// the client addresses the configured public URL, which is what htu must name, never the socket's.
import { request as httpRequest } from "node:http";
import { decodeJwt, decodeProtectedHeader } from "jose";
import * as oauth from "oauth4webapi";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../support/fake-clock.js";
import { REFRESH, startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";
import { cnfJkt, createAccount, DPOP_TEST_ENV, ENDPOINT, ME } from "./dpop-client.js";

const PUBLIC_URL = "http://localhost:4000";
const as: oauth.AuthorizationServer = { issuer: PUBLIC_URL, token_endpoint: ENDPOINT };
const client: oauth.Client = { client_id: "holdfast-interop" };
const LOGIN_WITH = `mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password, refreshTokenDelivery: BODY }) {
    accessToken tokenType refreshToken expiresAt scopes user { id }
  }
}`;

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Init = oauth.CustomFetchOptions<string, unknown>;

/** The reverse proxy: the public URL's requests go to the loopback socket, headers and body as sent. */
function proxy(base: string) {
  return (url: string, init: Init) =>
    fetch(url.replace(PUBLIC_URL, base), {
      method: init.method,
      headers: init.headers,
      body: init.body as string | null,
      redirect: "manual",
    });
}

/**
 * oauth4webapi's token-endpoint requests carry a DPoP proof without `ath`, exactly what login and
 * refresh need. This gateway turns their form into the GraphQL mutation (forwarding the library's
 * `dpop` header untouched) and the AuthPayload back into an RFC 6749 §5.1 token response, so the
 * library's own response processing, nonce challenge detection included, runs on our answers.
 */
function gateway(base: string, seen: { requests: number; proofs: string[] }) {
  return async (_url: string, init: Init) => {
    seen.requests += 1;
    seen.proofs.push(init.headers.dpop ?? "");
    const form = new URLSearchParams(String(init.body));
    const graphql =
      form.get("grant_type") === "refresh_token"
        ? { query: REFRESH, variables: { token: form.get("refresh_token") } }
        : { query: LOGIN_WITH, variables: { email: form.get("username"), password: form.get("password") } };
    const upstream = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(init.headers.dpop ? { dpop: init.headers.dpop } : {}),
      },
      body: JSON.stringify(graphql),
    });
    if (upstream.status !== 200) return upstream; // 401 + WWW-Authenticate (+ DPoP-Nonce) as sent
    const body = (await upstream.json()) as { data?: Record<string, Record<string, string>> | null };
    const payload = body.data?.login ?? body.data?.refresh;
    const headers = new Headers({ "content-type": "application/json" });
    const nonce = upstream.headers.get("dpop-nonce");
    if (nonce) headers.set("dpop-nonce", nonce);
    if (!payload) return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400, headers });
    return new Response(
      JSON.stringify({
        access_token: payload.accessToken,
        token_type: payload.tokenType,
        refresh_token: payload.refreshToken,
        expires_in: 300,
      }),
      { status: 200, headers },
    );
  };
}

/** Runs `attempt` again once if it failed for a DPoP nonce (the library cached the new nonce). */
async function withNonceRetry<T>(attempt: () => Promise<T>, counter: { retries: number }): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    counter.retries += 1;
    return attempt();
  }
}

async function interopFlow(server: TestServer, alg: "ES256" | "Ed25519", base: string) {
  const email = await createAccount(server);
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair(alg));
  const seen = { requests: 0, proofs: [] as string[] };
  const counter = { retries: 0 };
  const tokenOptions = {
    DPoP: dpop,
    [oauth.customFetch]: gateway(base, seen),
    [oauth.allowInsecureRequests]: true,
  };
  const resourceOptions = {
    DPoP: dpop,
    [oauth.customFetch]: proxy(base),
    [oauth.allowInsecureRequests]: true,
  };

  const login = await withNonceRetry(async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.None(),
      { username: email, password: TEST_PASSWORD },
      tokenOptions,
    );
    return oauth.processClientCredentialsResponse(as, client, response);
  }, counter);
  expect(login.token_type).toBe("dpop");
  expect(cnfJkt(login.access_token)).toBe(await dpop.calculateThumbprint());

  const me = async (accessToken: string) =>
    withNonceRetry(async () => {
      const response = await oauth.protectedResourceRequest(
        accessToken,
        "POST",
        new URL(ENDPOINT),
        new Headers({ "content-type": "application/json" }),
        JSON.stringify({ query: ME }),
        resourceOptions,
      );
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: { me: { id: string } | null } }).data.me;
    }, counter);
  const first = await me(login.access_token);
  expect(first?.id).toEqual(expect.any(String));

  const refreshed = await withNonceRetry(async () => {
    const response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      oauth.None(),
      login.refresh_token!,
      tokenOptions,
    );
    return oauth.processRefreshTokenResponse(as, client, response);
  }, counter);
  expect(refreshed.token_type).toBe("dpop");
  expect(refreshed.refresh_token).not.toBe(login.refresh_token);
  expect(cnfJkt(refreshed.access_token)).toBe(await dpop.calculateThumbprint());
  expect((await me(refreshed.access_token))?.id).toBe(first?.id);

  // Every login/refresh proof came from the library: dpop+jwt, its own key, no ath.
  for (const proof of seen.proofs) {
    expect(decodeProtectedHeader(proof)).toMatchObject({ typ: "dpop+jwt", jwk: expect.any(Object) });
    expect(decodeJwt(proof)).toMatchObject({ htm: "POST", htu: ENDPOINT });
    expect(decodeJwt(proof).ath).toBeUndefined();
  }
  return { counter, seen, dpop, me, login, refreshed };
}

describe("oauth4webapi against the running server (real HTTP)", () => {
  it.each(["ES256", "Ed25519"] as const)(
    "logs in, reads { me } and refreshes with %s proofs",
    async (alg) => {
      t = await startTestServer(DPOP_TEST_ENV);
      const base = await t.listen();
      const { counter, seen } = await interopFlow(t, alg, base);
      expect(counter.retries).toBe(0);
      expect(seen.requests).toBe(2);
    },
  );

  it("answers use_dpop_nonce, which the library handles with its own nonce cache (DPOP_NONCE=true)", async () => {
    // Just before a nonce step boundary, so that moving 61 s later makes the cached nonce two steps old.
    const stepMs = 60_000;
    const clock = new FakeClock(new Date(Math.floor(Date.now() / stepMs) * stepMs - 1000));
    t = await startTestServer(
      {
        ...DPOP_TEST_ENV,
        DPOP_NONCE: "true",
        DPOP_NONCE_SECRET: "interop-nonce-secret-of-32-bytes-or-more",
        // The library stamps iat from the system clock, and the test moves the server's clock 61 s.
        DPOP_IAT_WINDOW_SECONDS: "150",
      },
      { clock },
    );
    const base = await t.listen();
    const { counter, seen, me, refreshed } = await interopFlow(t, "ES256", base);
    // The first login proof had no nonce: one challenge, one retry; later requests reuse the nonce.
    expect(counter.retries).toBe(1);
    expect(seen.requests).toBe(3);

    // Two steps later the cached nonce is stale: one more challenge, and the library's retry works.
    clock.advanceSeconds(61);
    expect((await me(refreshed.access_token))?.id).toEqual(expect.any(String));
    expect(counter.retries).toBe(2);
  });
});

describe("over a real socket", () => {
  it("refuses two DPoP header lines (Node keeps both; §4.3 item 1)", async () => {
    t = await startTestServer(DPOP_TEST_ENV);
    const base = new URL(await t.listen());
    const email = await createAccount(t);
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const login = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.None(),
        { username: email, password: TEST_PASSWORD },
        {
          DPoP: dpop,
          [oauth.customFetch]: gateway(base.origin, { requests: 0, proofs: [] }),
          [oauth.allowInsecureRequests]: true,
        },
      ),
    );
    // Two valid proofs of the right key, as two header lines.
    const proofs: string[] = [];
    for (let i = 0; i < 2; i++) {
      await oauth.protectedResourceRequest(login.access_token, "POST", new URL(ENDPOINT), undefined, "{}", {
        DPoP: dpop,
        [oauth.customFetch]: async (_url: string, init: Init) => {
          proofs.push(init.headers.dpop!);
          return new Response(null, { status: 204 });
        },
        [oauth.allowInsecureRequests]: true,
      });
    }
    const { status, headers, body } = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      body: string;
    }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          path: "/graphql",
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `DPoP ${login.access_token}`,
            dpop: proofs,
          },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ query: ME }));
    });
    expect(status).toBe(401);
    expect(JSON.parse(body).errors[0].extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
    });
    expect(String(headers["www-authenticate"])).toMatch(
      /^DPoP error="invalid_dpop_proof".*algs="EdDSA ES256"/,
    );
  });
});
