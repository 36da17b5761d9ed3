import { describe, expect, it } from "vitest";
import { CreateNoteDocument, createMemoryRefreshTokenStore, MeDocument } from "../../../src/client/index.js";
import { ada, clientHarness, rejection } from "./support/client-harness.js";
import type { Scripted } from "./support/fake-holdfast-server.js";

const expired: Scripted = { kind: "error", status: 401, code: "UNAUTHENTICATED", reason: "token_expired" };

describe("a refused access token", () => {
  it("token_expired: refreshes once and retries the call once with the new token", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    server.script("Me", expired);
    const result = await client.request(MeDocument);
    expect(result.data.me?.id).toBe("u_1");
    expect(server.calls.map((c) => c.operationName)).toEqual(["Login", "Me", "Refresh", "Me"]);
    expect(server.calls.at(-1)?.authorization).toBe(`DPoP ${server.issuedAccessTokens[1]}`);
  });

  it("token_expired again after the retry is reported, not looped on", async () => {
    const { client, server, lost } = clientHarness();
    await client.login(ada);
    server.script("Me", expired, expired, expired, expired);
    const error = await rejection(client.request(MeDocument));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.reason).toBe("token_expired");
    expect(error.status).toBe(401);
    expect(server.count("Refresh")).toBe(1);
    expect(server.count("Me")).toBe(2);
    expect(lost).toEqual([]);
  });

  it("reads the reason from WWW-Authenticate when the body is not GraphQL", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    server.script("Me", {
      kind: "html",
      status: 401,
      wwwAuthenticate: 'DPoP error="invalid_token", algs="ES256"',
    });
    const result = await client.request(MeDocument);
    expect(result.data.me?.id).toBe("u_1");
    expect(server.calls.map((c) => c.operationName)).toEqual(["Login", "Me", "Refresh", "Me"]);
  });

  it("token_revoked ends the session at once, without a refresh", async () => {
    const { client, server, lost } = clientHarness();
    await client.login(ada);
    server.revokeEverySession();
    const error = await rejection(client.request(MeDocument));
    expect(error.reason).toBe("token_revoked");
    expect(server.count("Refresh")).toBe(0);
    expect(lost).toEqual(["token_revoked"]);
    expect(client.state().authenticated).toBe(false);
  });
});

describe("a refused refresh", () => {
  it.each(["refresh_token_reused", "token_revoked", "invalid_refresh_token"])(
    "%s stops, clears the state and signals session lost",
    async (reason) => {
      const { client, server, time, lost } = clientHarness();
      await client.login(ada);
      time.advance(250_000);
      server.script("Refresh", { kind: "error", status: 401, code: "UNAUTHENTICATED", reason });
      const error = await rejection(client.request(CreateNoteDocument, { input: { title: "t", body: "b" } }));
      expect(error.code).toBe("SESSION_LOST");
      expect(error.reason).toBe(reason);
      expect(lost).toEqual([reason]);
      expect(client.state().authenticated).toBe(false);
      expect(server.count("Refresh")).toBe(1);
      expect(server.count("CreateNote")).toBe(0);
    },
  );

  it("Node: a reused refresh token clears the refresh token store", async () => {
    const store = createMemoryRefreshTokenStore();
    const { client, server, lost } = clientHarness({ refreshTokenStore: store });
    await client.login(ada);
    const first = await store.get();
    await client.refresh();
    // A thief (or a restored backup) puts the rotated token back.
    await store.set(first);
    const error = await rejection(client.refresh());
    expect(error.reason).toBe("refresh_token_reused");
    expect(lost).toEqual(["refresh_token_reused"]);
    expect(await store.get()).toBeNull();
    expect(server.count("Refresh")).toBe(2);
  });
});

describe("Node refresh token store (BODY delivery)", () => {
  it("asks for BODY delivery, keeps the rotated token in the store and sends it as the argument", async () => {
    const store = createMemoryRefreshTokenStore();
    const { client, server } = clientHarness({ refreshTokenStore: store });
    await client.login(ada);
    expect(server.calls[0]?.variables).toMatchObject({ input: { refreshTokenDelivery: "BODY" } });
    expect(server.calls[0]?.credentials).toBeUndefined();
    expect(await store.get()).toBe(server.issuedRefreshTokens[0]);
    await client.refresh();
    expect(server.calls[1]?.variables).toEqual({ refreshToken: server.issuedRefreshTokens[0] });
    expect(await store.get()).toBe(server.issuedRefreshTokens[1]);
  });

  it("resumes a session from the store in a new process", async () => {
    const store = createMemoryRefreshTokenStore();
    const first = clientHarness({ refreshTokenStore: store });
    await first.client.login(ada);
    first.client.destroy();
    const second = clientHarness({
      refreshTokenStore: store,
      time: first.time,
      fakeServer: first.server,
      keyStore: first.keyStore,
    });
    expect(second.client.state().authenticated).toBe(false);
    expect(await second.client.resume()).toBe(true);
    expect((await second.client.request(MeDocument)).data.me?.id).toBe("u_1");
  });

  it("resume without a stored token sends nothing", async () => {
    const { client, server } = clientHarness({ refreshTokenStore: createMemoryRefreshTokenStore() });
    expect(await client.resume()).toBe(false);
    expect(server.calls).toHaveLength(0);
  });
});

describe("browser cookie delivery", () => {
  it("asks for COOKIE delivery and sends credentials so the HttpOnly cookie goes along", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    await client.refresh();
    expect(server.calls[0]?.variables).toMatchObject({ input: { refreshTokenDelivery: "COOKIE" } });
    expect(server.calls[1]?.variables).toEqual({});
    expect(server.calls.every((c) => c.credentials === "include")).toBe(true);
  });

  it("resume() after a reload picks the session up from the cookie; without one it resolves false", async () => {
    const first = clientHarness();
    await first.client.login(ada);
    const reloaded = clientHarness({ time: first.time, fakeServer: first.server, keyStore: first.keyStore });
    expect(await reloaded.client.resume()).toBe(true);
    expect(reloaded.client.state().sessionId).toBe(first.client.state().sessionId);

    const fresh = clientHarness();
    expect(await fresh.client.resume()).toBe(false);
    expect(fresh.lost).toEqual([]);
  });
});

describe("logout", () => {
  it("ends the session on the server and here, and signals it", async () => {
    const { client, server, logouts } = clientHarness();
    await client.login(ada);
    expect(await client.logout()).toBe(true);
    expect(server.count("Logout")).toBe(1);
    expect(logouts).toEqual(["this_client"]);
    expect(client.state().authenticated).toBe(false);
    await client.request(MeDocument);
    expect(server.calls.at(-1)?.authorization).toBeNull();
  });

  it("logs out here even when the server cannot be reached, and says so", async () => {
    const store = createMemoryRefreshTokenStore();
    const { client, server, logouts } = clientHarness({ refreshTokenStore: store });
    await client.login(ada);
    server.script("Logout", { kind: "network" });
    expect(await client.logout()).toBe(false);
    expect(logouts).toEqual(["this_client"]);
    expect(client.state().authenticated).toBe(false);
    expect(await store.get()).toBeNull();
  });

  it("logoutEverywhere ends every session", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    expect(await client.logoutEverywhere()).toBe(true);
    expect(server.count("LogoutEverywhere")).toBe(1);
    expect(client.state().authenticated).toBe(false);
  });

  it("a refresh that finishes after logout does not bring the session back", async () => {
    const { client, server, time } = clientHarness();
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", { kind: "error", status: 503, code: "SERVICE_UNAVAILABLE" });
    const pending = client.request(MeDocument).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the refresh is now sleeping before its retry
    await client.logout();
    await time.run(pending);
    expect(client.state().authenticated).toBe(false);
    expect(server.count("Refresh")).toBe(1);
  });
});

describe("login and lifecycle", () => {
  it("a wrong password is reported as invalid_credentials and leaves no session", async () => {
    const { client } = clientHarness();
    const error = await rejection(client.login({ ...ada, password: "wrong" }));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.reason).toBe("invalid_credentials");
    expect(client.state().authenticated).toBe(false);
  });

  it("login returns the session without any token and passes the asked scopes", async () => {
    const { client, server } = clientHarness();
    const info = await client.login({ ...ada, scopes: ["notes:read"] });
    expect(info).toMatchObject({ user: { id: "u_1" }, scopes: ["notes:read", "notes:write"] });
    expect(Object.keys(info).sort()).toEqual(["expiresAt", "scopes", "sessionId", "user"]);
    expect(server.calls[0]?.variables).toMatchObject({ input: { scopes: ["notes:read"] } });
  });

  it("register signs the user in", async () => {
    const { client, server } = clientHarness();
    await client.register({ ...ada, displayName: "Ada" });
    expect(server.count("Register")).toBe(1);
    expect(client.state().authenticated).toBe(true);
  });

  it("GraphQL errors come back as typed errors with the partial data", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    server.script("Me", { kind: "error", status: 200, code: "FORBIDDEN", reason: "insufficient_scope" });
    const error = await rejection(client.request(MeDocument));
    expect(error.code).toBe("FORBIDDEN");
    expect(error.reason).toBe("insufficient_scope");
    expect(error.retryable).toBe(false);
    expect(server.count("Refresh")).toBe(0);
  });

  it("after destroy, every call rejects with CLIENT_DESTROYED and nothing is sent", async () => {
    const { client, server, time } = clientHarness({ refreshTimer: true });
    await client.login(ada);
    client.destroy();
    expect(time.pendingTimers).toBe(0);
    const error = await rejection(client.request(MeDocument));
    expect(error.code).toBe("CLIENT_DESTROYED");
    await expect(client.refresh()).rejects.toMatchObject({ code: "CLIENT_DESTROYED" });
    expect(server.calls).toHaveLength(1);
  });
});
