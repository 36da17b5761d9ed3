import { createServer as createHttpServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDpopKey, createDpopProof, type DpopTestKey } from "../support/dpop-proof.js";
import { freePort } from "../support/free-port.js";
import {
  REFRESH,
  REGISTER,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/test-server.js";

// In development a browser reaches the server as localhost, 127.0.0.1 or [::1] and builds the DPoP
// `htu` and the page origin from whichever it used: all three on the configured port are one origin.
// In production only the configured PUBLIC_URL is, and a proof for any other URL is told which one.

const HOSTS = ["localhost", "127.0.0.1", "[::1]"] as const;

interface Answer {
  status: number;
  body: {
    data?: {
      register?: { accessToken: string; tokenType: string };
      refresh?: { tokenType: string };
      me?: { id: string } | null;
    } | null;
    errors?: { extensions?: Record<string, unknown> }[];
  };
  headers: Headers;
}

async function post(
  url: string,
  query: string,
  init: { variables?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify({ query, variables: init.variables ?? {} }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Answer["body"],
    headers: response.headers,
  };
}

/** The answer to a graphql-ws upgrade sent with `origin`: 101 when the socket opened, else the HTTP status. */
async function upgradeStatus(wsUrl: string, origin: string): Promise<number> {
  const { WebSocket } = await import("ws");
  return new Promise<number>((resolve) => {
    const socket = new WebSocket(wsUrl, ["graphql-transport-ws"], { origin });
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    socket.once("error", () => {});
  });
}

let accounts = 0;
function email(): string {
  accounts += 1;
  return `loopback${accounts}-${process.pid}-${Date.now()}@example.com`;
}

describe("in development, the loopback names on the configured port are one origin", () => {
  let t: TestServer;
  let port: number;
  let key: DpopTestKey;
  let ipv6: Server;

  beforeAll(async () => {
    port = await freePort();
    t = await startTestServer({ NODE_ENV: "development", PUBLIC_URL: `http://localhost:${port}` });
    await t.server.app.listen({ host: "127.0.0.1", port });
    // The same app on [::1] too (where /etc/hosts maps localhost to 127.0.0.1 only, as here, Fastify's
    // "localhost" would not listen there).
    ipv6 = createHttpServer((request, response) => t.server.app.server.emit("request", request, response));
    await new Promise<void>((resolve, reject) => {
      ipv6.once("error", reject);
      ipv6.listen(port, "::1", () => resolve());
    });
    key = await createDpopKey();
  });
  afterAll(async () => {
    await new Promise((resolve) => ipv6?.close(resolve));
    await t?.close();
  });

  const proof = (host: string, accessToken?: string) =>
    createDpopProof(key, {
      htm: "POST",
      htu: `http://${host}:${port}/graphql`,
      iat: t.clock.now(),
      ...(accessToken === undefined ? {} : { accessToken }),
    });

  it.each(HOSTS)(
    "binds a token at %s and accepts its proofs there, with the refresh cookie",
    async (host) => {
      const url = `http://${host}:${port}/graphql`;
      const registered = await post(url, REGISTER, {
        variables: {
          input: {
            email: email(),
            password: TEST_PASSWORD,
            displayName: "Loopback",
            refreshTokenDelivery: "COOKIE",
          },
        },
        headers: { dpop: await proof(host) },
      });
      expect(registered.body.errors).toBeUndefined();
      const { accessToken, tokenType } = registered.body.data?.register ?? {};
      expect(tokenType).toBe("DPoP");
      const cookie = registered.headers.getSetCookie().find((c) => c.startsWith("__Host-holdfast_rt="));
      expect(cookie).toMatch(/; Path=\/; .*HttpOnly; Secure; SameSite=Strict/i);

      const me = await post(url, "{ me { id } }", {
        headers: { authorization: `DPoP ${accessToken}`, dpop: await proof(host, accessToken) },
      });
      expect(me.status).toBe(200);
      expect(me.body.data?.me?.id).toEqual(expect.any(String));

      const refreshed = await post(url, REFRESH, {
        headers: { cookie: cookie!.split(";")[0]!, dpop: await proof(host) },
      });
      expect(refreshed.body.errors).toBeUndefined();
      expect(refreshed.body.data?.refresh?.tokenType).toBe("DPoP");
    },
  );

  it("accepts a proof for another loopback name than the one the request went to", async () => {
    // The page and the endpoint may be reached under different names (a page at 127.0.0.1 calling localhost).
    const registered = await post(`http://localhost:${port}/graphql`, REGISTER, {
      variables: {
        input: {
          email: email(),
          password: TEST_PASSWORD,
          displayName: "Loopback",
          refreshTokenDelivery: "BODY",
        },
      },
      headers: { dpop: await proof("127.0.0.1") },
    });
    expect(registered.body.data?.register?.tokenType).toBe("DPoP");
  });

  it("still refuses a proof for another port or a non-loopback host, naming the expected URL", async () => {
    for (const htu of [`http://127.0.0.1:${port + 1}/graphql`, `http://example.com:${port}/graphql`]) {
      const refused = await post(`http://127.0.0.1:${port}/graphql`, REGISTER, {
        variables: { input: { email: email(), password: TEST_PASSWORD, displayName: "Loopback" } },
        headers: { dpop: await createDpopProof(key, { htm: "POST", htu, iat: t.clock.now() }) },
      });
      expect(refused.status, htu).toBe(401);
      expect(refused.body.errors?.[0]?.extensions, htu).toMatchObject({
        code: "UNAUTHENTICATED",
        reason: "invalid_dpop_proof",
        expected: `http://localhost:${port}/graphql`,
      });
    }
  });

  it.each(HOSTS)("answers CORS preflights from the page origin http://%s:<port>", async (host) => {
    const origin = `http://${host}:${port}`;
    const response = await fetch(`http://localhost:${port}/graphql`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization,dpop",
      },
    });
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("opens live subscriptions for a page at any loopback name, and for no other port", async () => {
    // The CORS list and the WebSocket check are one list: a demo page opened at 127.0.0.1 gets its feed.
    const ws = `ws://127.0.0.1:${port}/graphql`;
    for (const host of HOSTS) expect(await upgradeStatus(ws, `http://${host}:${port}`), host).toBe(101);
    expect(await upgradeStatus(ws, `http://127.0.0.1:${port + 1}`)).toBe(403);
    expect(await upgradeStatus(ws, "https://evil.example")).toBe(403);
  });

  it("gives no CORS answer to a loopback origin on another port", async () => {
    const response = await fetch(`http://localhost:${port}/graphql`, {
      method: "OPTIONS",
      headers: { origin: `http://127.0.0.1:${port + 1}`, "access-control-request-method": "POST" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("in production, only PUBLIC_URL is the origin", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ NODE_ENV: "production", PUBLIC_URL: "http://localhost:4000" });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Registers a user with a DPoP proof for `htm` and `htu` from a fresh key. */
  const registerWithProof = async (htm: string, htu: string) =>
    t.gql(REGISTER, {
      variables: { input: { email: email(), password: TEST_PASSWORD, displayName: "Prod" } },
      headers: { dpop: await createDpopProof(await createDpopKey(), { htm, htu, iat: t.clock.now() }) },
    });

  it("refuses a proof for 127.0.0.1 and names the expected URL in extensions.expected", async () => {
    const res = await registerWithProof("POST", "http://127.0.0.1:4000/graphql");
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
      expected: "http://localhost:4000/graphql",
    });
  });

  it("names nothing extra when a proof fails another check", async () => {
    const res = await registerWithProof("GET", "http://localhost:4000/graphql");
    expect(res.body.errors?.[0]?.extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
    });
  });

  it("refuses a live subscription from a page at http://127.0.0.1:4000, not from http://localhost:4000", async () => {
    await t.server.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = t.server.app.server.address() as { port: number };
    const ws = `ws://127.0.0.1:${port}/graphql`;
    expect(await upgradeStatus(ws, "http://127.0.0.1:4000")).toBe(403);
    expect(await upgradeStatus(ws, "http://localhost:4000")).toBe(101);
  });

  it("gives no CORS answer to http://127.0.0.1:4000", async () => {
    const response = await t.server.app.inject({
      method: "OPTIONS",
      url: "/graphql",
      headers: { origin: "http://127.0.0.1:4000", "access-control-request-method": "POST" },
    });
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
