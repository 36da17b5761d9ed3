import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_ORIGINS } from "../../src/server/security/cors.js";
import { errorOf, type Harness, register, startHarness, type Tokens, TRANSPORTS } from "./support/harness.js";

const APP_ORIGIN = "https://app.example.com";

describe.each(TRANSPORTS)("CSRF (%s)", (transport) => {
  let t: Harness;
  let account: Tokens;
  beforeAll(async () => {
    t = await startHarness(transport, { env: { CORS_ORIGINS: APP_ORIGIN } });
    account = await register(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const stillSignedIn = async () =>
    (await t.gql<{ me: { id: string } | null }>("{ me { id } }", { token: account.accessToken })).body.data
      ?.me?.id;

  it("refuses a text/plain POST mutation (a form or no-cors fetch) and does not run it", async () => {
    const res = await t.send({
      headers: { "content-type": "text/plain", authorization: `Bearer ${account.accessToken}` },
      body: JSON.stringify({ query: "mutation { logout }" }),
    });
    expect(res.status).toBe(400);
    expect(errorOf(res)?.code).toBe("BAD_REQUEST");
    expect(await stillSignedIn()).toBe(account.user.id);
  });

  it("refuses a form-encoded POST", async () => {
    const res = await t.send({
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Bearer ${account.accessToken}`,
      },
      body: `query=${encodeURIComponent("mutation { logout }")}`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await stillSignedIn()).toBe(account.user.id);
  });

  it("never runs a mutation sent by GET, even with the preflight header", async () => {
    const path = `/graphql?query=${encodeURIComponent("mutation { logout }")}`;
    const simple = await t.send({
      method: "GET",
      path,
      headers: { authorization: `Bearer ${account.accessToken}` },
    });
    expect(simple.status).toBe(400);
    const preflighted = await t.send({
      method: "GET",
      path,
      headers: { authorization: `Bearer ${account.accessToken}`, "apollo-require-preflight": "1" },
    });
    expect(preflighted.status).toBe(405);
    expect(errorOf(preflighted)?.code).toBe("BAD_REQUEST");
    expect(await stillSignedIn()).toBe(account.user.id);
  });

  it("answers a GET query that carries the preflight header", async () => {
    const res = await t.send({
      method: "GET",
      path: `/graphql?query=${encodeURIComponent("{ me { id } }")}`,
      headers: { authorization: `Bearer ${account.accessToken}`, "apollo-require-preflight": "1" },
    });
    expect(res.status).toBe(200);
  });
});

describe.each(TRANSPORTS)("CORS (%s)", (transport) => {
  let t: Harness;
  beforeAll(async () => {
    t = await startHarness(transport, { env: { CORS_ORIGINS: APP_ORIGIN } });
  });
  afterAll(async () => {
    await t.close();
  });

  const query = (origin?: string) =>
    t.send({ body: { query: "{ me { id } }" }, headers: origin ? { origin } : {} });
  const preflight = (origin: string) =>
    t.send({
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });

  it("gives a listed origin its own origin back, with credentials", async () => {
    const res = await query(APP_ORIGIN);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("vary")).toMatch(/origin/i);
    const pre = await preflight(APP_ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(pre.headers.get("access-control-allow-methods")).toMatch(/POST/);
  });

  it("gives an origin not on the list no CORS headers at all", async () => {
    for (const origin of [
      "https://evil.example",
      "https://app.example.com.evil.example",
      "null",
      SANDBOX_ORIGINS[0]!,
    ]) {
      for (const res of [await query(origin), await preflight(origin)]) {
        expect(res.headers.get("access-control-allow-origin")).toBeNull();
        expect(res.headers.get("access-control-allow-credentials")).toBeNull();
        expect(res.headers.get("access-control-allow-methods")).toBeNull();
      }
    }
  });

  it("adds no CORS headers to a request without an Origin", async () => {
    const res = await query();
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("CORS in development", () => {
  it("lets Apollo Sandbox in, with credentials", async () => {
    const t = await startHarness("inject", { env: { NODE_ENV: "development" } });
    try {
      for (const origin of SANDBOX_ORIGINS) {
        const res = await t.send({ body: { query: "{ me { id } }" }, headers: { origin } });
        expect(res.headers.get("access-control-allow-origin")).toBe(origin);
        expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      }
    } finally {
      await t.close();
    }
  });
});
