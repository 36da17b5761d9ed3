import { describe, expect, it } from "vitest";
import { tokenFingerprint } from "../../src/logger.js";
import { API_CSP, DEMO_CSP } from "../../src/server/security/security-headers.js";
import { LOGIN, REFRESH } from "../support/test-server.js";
import { harnessPerTest, register, TEST_PASSWORD, TRANSPORTS } from "./support/harness.js";

const start = harnessPerTest();

describe.each(TRANSPORTS)("security headers (%s)", (transport) => {
  it("marks every response no-store, nosniff, unframeable, without referrer, with a locked-down CSP", async () => {
    const t = await start(transport);
    const answers = [
      await t.gql("{ me { id } }"),
      await t.send({ method: "GET", path: "/nowhere" }),
      await t.send({ body: { query: `{ me { id } } # ${"x".repeat(100_000)}` } }),
      await t.send({ method: "GET", path: "/healthz" }),
      await t.send({ body: "{not json" }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 404, 413, 200, 400]);
    for (const a of answers) {
      expect(a.headers.get("cache-control")).toBe("no-store");
      expect(a.headers.get("x-content-type-options")).toBe("nosniff");
      expect(a.headers.get("x-frame-options")).toBe("DENY");
      expect(a.headers.get("referrer-policy")).toBe("no-referrer");
      expect(a.headers.get("content-security-policy")).toBe(API_CSP);
      expect(a.headers.get("strict-transport-security")).toBeNull();
      expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("lets the JWKS keep its own short caching, with the other headers", async () => {
    const t = await start(transport);
    const jwks = await t.send({ method: "GET", path: "/.well-known/jwks.json" });
    expect(jwks.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(jwks.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("gives the demo pages their own CSP", async () => {
    const t = await start(transport);
    for (const path of ["/demo", "/demo/", "/demo/app.js"]) {
      const res = await t.send({ method: "GET", path });
      expect(res.headers.get("content-security-policy")).toBe(DEMO_CSP);
    }
    const elsewhere = await t.send({ method: "GET", path: "/demonstration" });
    expect(elsewhere.headers.get("content-security-policy")).toBe(API_CSP);
  });

  it("sends HSTS when the public URL is https", async () => {
    const t = await start(transport, { PUBLIC_URL: "https://api.example.com" });
    const res = await t.send({ method: "GET", path: "/healthz" });
    expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
  });
});

describe.each(TRANSPORTS)("request log (%s)", (transport) => {
  it("writes one line per request, with request id, viewer, session, operation, status and duration", async () => {
    const t = await start(transport);
    const account = await register(t);
    const me = await t.gql("query WhoAmI { me { id } }", { token: account.accessToken });
    const typo = await t.gql("query Broken { mee }");
    const lines = t.logs.filter((l) => l.msg === "request");
    expect(lines).toHaveLength(3);
    const meLine = lines.find((l) => l.reqId === me.headers.get("x-request-id"));
    expect(meLine).toMatchObject({
      method: "POST",
      path: "/graphql",
      status: 200,
      viewerId: account.user.id,
      sessionId: account.session.id,
      operation: "WhoAmI",
      operationType: "query",
      tokenFp: tokenFingerprint(account.accessToken),
    });
    expect(typeof meLine?.durationMs).toBe("number");
    const typoLine = lines.find((l) => l.reqId === typo.headers.get("x-request-id"));
    expect(typoLine).toMatchObject({ status: 400, viewerId: null, errors: ["GRAPHQL_VALIDATION_FAILED"] });
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(3);
  });

  it("records the codes and reasons the client received; a client's mistake is not an internal error", async () => {
    const t = await start(transport);
    const account = await register(t);
    const wrong = await t.gql(LOGIN, {
      variables: { input: { email: account.user.email, password: `${TEST_PASSWORD}!` } },
    });
    const reused = await t.gql(REFRESH, { variables: { token: "x".repeat(43) } });
    const badInput = await t.gql(`mutation { narrowToken(scopes: ["nope"]) { accessToken } }`, {
      token: account.accessToken,
    });
    const revokedToken = await t.gql("{ me { id } }", { token: `${account.accessToken.slice(0, -4)}AAAA` });
    const line = (res: { headers: Headers }) =>
      t.logs.find((l) => l.msg === "request" && l.reqId === res.headers.get("x-request-id"));
    expect(line(wrong)).toMatchObject({ errors: ["UNAUTHENTICATED"], reasons: ["invalid_credentials"] });
    expect(line(reused)).toMatchObject({ errors: ["UNAUTHENTICATED"], reasons: ["invalid_refresh_token"] });
    expect(line(badInput)).toMatchObject({ errors: ["BAD_USER_INPUT"], reasons: ["invalid_scope"] });
    // Refused in the context phase (before any resolver), still with its code.
    expect(line(revokedToken)).toMatchObject({
      status: 401,
      errors: ["UNAUTHENTICATED"],
      reasons: ["invalid_token"],
    });
    // None of them is logged as an error, and none carries a correlation id.
    for (const res of [wrong, reused, badInput, revokedToken]) {
      expect(line(res)?.level).toBe(30);
      expect(line(res)).not.toHaveProperty("correlationIds");
    }
    expect(t.logs.filter((l) => l.msg === "internal error")).toEqual([]);
  });

  it("never logs a password, an email, a refresh token or an access token", async () => {
    const t = await start(transport);
    const account = await register(t);
    const secrets = [TEST_PASSWORD, account.user.email, account.accessToken, account.refreshToken];

    // A login whose refresh token goes into the cookie, then a refresh from that cookie.
    const viaCookie = await t.gql(LOGIN, {
      variables: {
        input: { email: account.user.email, password: TEST_PASSWORD, refreshTokenDelivery: "COOKIE" },
      },
    });
    const cookie = viaCookie.headers.getSetCookie().find((c) => c.startsWith(t.config.refresh.cookieName));
    expect(cookie).toBeDefined();
    const cookiePair = cookie!.split(";", 1)[0]!;
    secrets.push(cookiePair.slice(cookiePair.indexOf("=") + 1));
    const fromCookie = await t.gql<{ refresh: { accessToken: string } }>(REFRESH, {
      headers: { cookie: cookiePair },
    });
    expect(fromCookie.body.errors).toBeUndefined();
    secrets.push(fromCookie.body.data!.refresh.accessToken);

    // A refresh with the token in the body, then authenticated requests with the new access token.
    const fromBody = await t.gql<{ refresh: { accessToken: string; refreshToken: string } }>(REFRESH, {
      variables: { token: account.refreshToken },
    });
    const next = fromBody.body.data!.refresh;
    secrets.push(next.accessToken, next.refreshToken);
    await t.gql("{ me { id email } }", { token: next.accessToken });
    await t.gql("mutation { logout }", { token: next.accessToken });
    // A wrong password too: a failure must not log what was tried.
    await t.gql(LOGIN, {
      variables: { input: { email: account.user.email, password: `${TEST_PASSWORD}!` } },
    });

    expect(t.rawLogs.length).toBeGreaterThanOrEqual(7);
    const everything = t.rawLogs.join("\n");
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(everything).toContain(tokenFingerprint(next.accessToken));
  });
});
