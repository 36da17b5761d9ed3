import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { registerUser, useTestServer } from "../support/test-server.js";

const t = useTestServer();
let base: string;

/** A POST to /graphql over the real socket with a JSON content type and `body` as sent. */
const postGraphql = (body: string) =>
  fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body });
beforeAll(async () => {
  base = await t.listen();
});

describe("HTTP surface", () => {
  it("answers /healthz and /readyz with the database check", async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok" } });
  });

  it("publishes only public signing keys at /.well-known/jwks.json, cacheable briefly", async () => {
    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ use: "sig", alg: "EdDSA" });
      expect(key).not.toHaveProperty("d");
    }
  });

  it("answers a malformed GraphQL request with a clean error, not a stack trace", async () => {
    const res = await postGraphql('{"query": "{ me { id "}');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|at .*\.js/);
  });

  it("answers invalid JSON with a 400, not a crash", async () => {
    const res = await postGraphql("{nope");
    expect(res.status).toBe(400);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("marks GraphQL responses no-store and nosniff", async () => {
    const res = await postGraphql('{"query":"{ me { id } }"}');
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("keeps introspection off outside development", async () => {
    const res = await postGraphql('{"query":"{ __schema { types { name } } }"}');
    const body = (await res.json()) as { errors?: unknown[] };
    expect(body.errors?.length).toBeGreaterThan(0);
  });

  it("refuses two Authorization headers, even when both carry a valid token", async () => {
    const user = await registerUser(t);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/graphql`,
        { method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      // An array value goes out as two header lines.
      req.setHeader("authorization", [`Bearer ${user.accessToken}`, `Bearer ${user.accessToken}`]);
      req.on("error", reject);
      req.end('{"query":"{ me { id } }"}');
    });
    expect(status).toBe(401);
    const single = await t.gql<{ me: { id: string } }>("{ me { id } }", { token: user.accessToken });
    expect(single.body.data?.me.id).toBe(user.user.id);
  });

  it("refuses a token in the URL and a huge header without crashing", async () => {
    const user = await registerUser(t);
    const inUrl = await fetch(`${base}/graphql?access_token=${user.accessToken}&query=%7Bme%7Bid%7D%7D`, {
      headers: { "apollo-require-preflight": "1" },
    });
    expect(inUrl.status).toBe(401);
    const huge = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${"a".repeat(20_000)}` },
      body: '{"query":"{ me { id } }"}',
    });
    expect([400, 401, 431]).toContain(huge.status);
    const big = await t.gql("{ me { id } }", { authorization: `Bearer ${"a".repeat(9000)}` });
    expect(big.status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
