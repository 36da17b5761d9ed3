import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createMemoryRefreshTokenStore, MeDocument } from "../../../src/client/index.js";
import { ada, clientHarness } from "./support/client-harness.js";

/** Everything reachable from a value without calling anything: own properties, hidden ones, prototypes. */
function dump(value: unknown): string {
  return [JSON.stringify(value) ?? "", inspect(value, { showHidden: true, depth: 20, getters: true })].join(
    "\n",
  );
}

describe("the access token is not reachable from the client", () => {
  it("no token appears in the client object, its keys, its state, login's result or errors", async () => {
    const { client, server, time } = clientHarness();
    const info = await client.login(ada);
    await client.request(MeDocument);
    time.advance(250_000);
    await client.request(MeDocument);
    server.script(
      "Me",
      { kind: "error", status: 401, code: "UNAUTHENTICATED", reason: "token_expired" },
      {
        kind: "error",
        status: 401,
        code: "UNAUTHENTICATED",
        reason: "token_expired",
      },
    );
    const error = await client.request(MeDocument).catch((e: unknown) => e);

    const tokens = [...server.issuedAccessTokens, ...server.issuedRefreshTokens];
    expect(server.issuedAccessTokens.length).toBeGreaterThanOrEqual(3);
    const surfaces = [
      JSON.stringify(client),
      Object.keys(client).join(","),
      Object.getOwnPropertyNames(client).join(","),
      dump(client),
      dump(client.state()),
      dump(info),
      dump(error),
      ...Object.values(client).map((f) => String(f)),
    ];
    for (const surface of surfaces) {
      for (const token of tokens) expect(surface).not.toContain(token);
    }
    expect(JSON.stringify(client)).toBe("{}");
    expect(Object.keys(client).sort()).toEqual(
      [
        "destroy",
        "login",
        "logout",
        "logoutEverywhere",
        "refresh",
        "register",
        "request",
        "resume",
        "state",
        "subscribe",
      ].sort(),
    );
    expect(Object.values(client).every((v) => typeof v === "function")).toBe(true);
  });

  it("the client object is frozen: nothing can be attached to or swapped on it", async () => {
    const { client } = clientHarness();
    expect(Object.isFrozen(client)).toBe(true);
    expect(() => {
      (client as unknown as Record<string, unknown>).request = () => undefined;
    }).toThrow(TypeError);
  });

  it("with BODY delivery, the refresh token lives only in the caller's store", async () => {
    const store = createMemoryRefreshTokenStore();
    const { client, server } = clientHarness({ refreshTokenStore: store });
    const info = await client.login(ada);
    const refreshToken = server.issuedRefreshTokens[0]!;
    expect(await store.get()).toBe(refreshToken);
    for (const surface of [dump(client), dump(client.state()), dump(info)]) {
      expect(surface).not.toContain(refreshToken);
      expect(surface).not.toContain(server.issuedAccessTokens[0]);
    }
  });
});
