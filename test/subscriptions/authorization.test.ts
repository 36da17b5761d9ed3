// Subscriptions whose authorization follows the token, over real WebSocket connections through the
// HTTP server. Runs on SQLite, and on PostgreSQL with TEST_DATABASE=postgres.
import { describe, expect, it } from "vitest";
import {
  errorOf,
  login,
  REFRESH,
  registerUser,
  TEST_PASSWORD,
  useListeningServer,
} from "../support/test-server.js";
import { createNote, eventAbout, expectStillLive, subscribeAs, until } from "./support/live-harness.js";
import { bearer, closeOf, connect, NOTE_EVENTS } from "./support/ws-client.js";

const t = useListeningServer({
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
});

/** Alice signed in twice, with a live subscription on each of her two sessions. */
async function aliceInTwoSessions() {
  const alice = await registerUser(t);
  const otherSession = await login(t, alice.user.email);
  const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
  const a2 = await subscribeAs(t, t.base, bearer(otherSession.accessToken));
  return { alice, otherSession, a, a2 };
}

interface EventPayload {
  data: { noteEvents: { kind: string; noteId: string; note: { body: string | null } | null } } | null;
  errors?: { path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

describe("events", () => {
  it("delivers CREATED, UPDATED and DELETED; another owner's body is refused per field, as in notes", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const own = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const other = await subscribeAs(t, t.base, bearer(bob.accessToken));

    const id = await createNote(t, alice.accessToken, "title", "secret body");
    const mine = (await eventAbout(own, id)).payload as EventPayload;
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.noteEvents.note?.body).toBe("secret body");
    const theirs = (await eventAbout(other, id)).payload as EventPayload;
    expect(theirs.data?.noteEvents).toMatchObject({ kind: "CREATED", noteId: id, note: { body: null } });
    expect(theirs.errors).toEqual([
      expect.objectContaining({
        path: ["noteEvents", "note", "body"],
        extensions: expect.objectContaining({ code: "FORBIDDEN", requiredScopes: [["notes:read:any"]] }),
      }),
    ]);

    await t.gql(`mutation { updateNote(id: "${id}", input: { title: "new" }) { id } }`, {
      token: alice.accessToken,
    });
    await eventAbout(other, id, "UPDATED");
    await t.gql(`mutation { deleteNote(id: "${id}") }`, { token: alice.accessToken });
    const deleted = (await eventAbout(other, id, "DELETED")).payload as EventPayload;
    expect(deleted).toEqual({ data: { noteEvents: { kind: "DELETED", noteId: id, note: null } } });
    own.close();
    other.close();
  });

  it("an admin with notes:read:any reads every body", async () => {
    const alice = await registerUser(t);
    const admin = await registerUser(t, { role: "admin" });
    const client = await subscribeAs(t, t.base, bearer(admin.accessToken));
    const id = await createNote(t, alice.accessToken, "t", "alice's body");
    const payload = (await eventAbout(client, id)).payload as EventPayload;
    expect(payload.errors).toBeUndefined();
    expect(payload.data?.noteEvents.note?.body).toBe("alice's body");
    client.close();
  });

  it("refuses the stream without notes:read (FORBIDDEN) and to anonymous connections (UNAUTHENTICATED)", async () => {
    const alice = await registerUser(t);
    const writer = await login(t, alice.user.email, { scopes: ["notes:write"] });
    const narrow = await connect(t.base);
    await narrow.init({ authorization: bearer(writer.accessToken) });
    narrow.subscribe("1", NOTE_EVENTS);
    const refused = await narrow.next((m) => m.id === "1" && m.type === "next");
    expect((refused.payload as EventPayload).errors?.[0]?.extensions).toMatchObject({
      code: "FORBIDDEN",
      requiredScopes: [["notes:read"], ["notes:read:any"]],
    });
    await narrow.next((m) => m.id === "1" && m.type === "complete");

    const anonymous = await connect(t.base);
    await anonymous.init();
    anonymous.subscribe("1", NOTE_EVENTS);
    const unauthenticated = await anonymous.next((m) => m.id === "1" && m.type === "next");
    expect((unauthenticated.payload as EventPayload).errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "authentication_required",
    });
    narrow.close();
    anonymous.close();
  });

  it("serves only subscriptions over WebSocket: queries and mutations stay on HTTP", async () => {
    const alice = await registerUser(t);
    const client = await connect(t.base);
    await client.init({ authorization: bearer(alice.accessToken) });
    client.subscribe("q", "{ me { id } }");
    const error = await client.next((m) => m.id === "q");
    expect(error.type).toBe("error");
    expect((error.payload as { extensions: unknown }[])[0]?.extensions).toMatchObject({
      reason: "subscriptions_only",
    });
    expect(client.isClosed()).toBe(false);
    client.close();
  });
});

describe("connection_init is authenticated as an HTTP request is", () => {
  it("closes with 4401 and the HTTP reason for a bad, expired or revoked token", async () => {
    const garbage = await connect(t.base);
    await expect(garbage.init({ authorization: "Bearer not.a.token" })).rejects.toMatchObject({
      code: 4401,
      reason: "invalid_token",
    });

    const alice = await registerUser(t);
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds + t.config.tokens.clockToleranceSeconds + 1);
    const expired = await connect(t.base);
    await expect(expired.init({ authorization: bearer(alice.accessToken) })).rejects.toMatchObject({
      code: 4401,
      reason: "token_expired",
    });

    const bob = await registerUser(t);
    await t.gql("mutation { logout }", { token: bob.accessToken });
    const revoked = await connect(t.base);
    await expect(revoked.init({ authorization: bearer(bob.accessToken) })).rejects.toMatchObject({
      code: 4401,
      reason: "token_revoked",
    });

    const malformed = await connect(t.base);
    await expect(malformed.init({ authorization: 42 })).rejects.toMatchObject({
      code: 4401,
      reason: "invalid_token",
    });
  });

  it("reads the payload's keys as header names (any case) and refuses two of them, as duplicate headers", async () => {
    const alice = await registerUser(t);
    const capitalised = await connect(t.base);
    expect(await capitalised.init({ Authorization: bearer(alice.accessToken) })).toEqual({
      expiresAt: expect.any(String),
    });
    capitalised.close();
    const twice = await connect(t.base);
    await expect(
      twice.init({ authorization: bearer(alice.accessToken), Authorization: bearer(alice.accessToken) }),
    ).rejects.toMatchObject({ code: 4401, reason: "invalid_token" });
  });

  it("refuses a subscribe before the connection is acknowledged (4401)", async () => {
    const client = await connect(t.base);
    client.subscribe("1", NOTE_EVENTS);
    expect((await closeOf(client)).code).toBe(4401);
  });
});

describe("the connection closes with 4401 when its session ends", () => {
  it("logout closes that session's connections, not the user's other sessions", async () => {
    const alice = await registerUser(t);
    const otherSession = await login(t, alice.user.email);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const b = await subscribeAs(t, t.base, bearer(otherSession.accessToken));
    await t.gql("mutation { logout }", { token: alice.accessToken });
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "token_revoked" });
    await expectStillLive(t, b, otherSession.accessToken);
    b.close();
  });

  it("logoutEverywhere closes every session's connections, not another user's", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const otherSession = await login(t, alice.user.email);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const a2 = await subscribeAs(t, t.base, bearer(otherSession.accessToken));
    const b = await subscribeAs(t, t.base, bearer(bob.accessToken));
    await t.gql("mutation { logoutEverywhere }", { token: alice.accessToken });
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "token_revoked" });
    expect(await closeOf(a2)).toEqual({ code: 4401, reason: "token_revoked" });
    await expectStillLive(t, b, bob.accessToken);
    b.close();
  });

  it("revokeSession closes the revoked session's connections only", async () => {
    const { alice, otherSession, a, a2 } = await aliceInTwoSessions();
    const res = await t.gql(`mutation { revokeSession(id: "${otherSession.session.id}") }`, {
      token: alice.accessToken,
    });
    expect(res.body.data).toEqual({ revokeSession: true });
    expect(await closeOf(a2)).toEqual({ code: 4401, reason: "token_revoked" });
    await expectStillLive(t, a, alice.accessToken);
    a.close();
  });

  it("a password change closes every other session's connections and keeps the caller's", async () => {
    const { alice, a, a2 } = await aliceInTwoSessions();
    const res = await t.gql(
      "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }",
      { token: alice.accessToken, variables: { c: TEST_PASSWORD, n: "a brand new passphrase" } },
    );
    expect(res.body.data).toEqual({ changePassword: true });
    expect(await closeOf(a2)).toEqual({ code: 4401, reason: "token_revoked" });
    await expectStillLive(t, a, alice.accessToken);
    a.close();
  });

  it("refresh-token reuse revokes the family and closes its connections", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const rotated = await t.gql(REFRESH, { variables: { token: alice.refreshToken } });
    expect(errorOf(rotated)).toBeUndefined();
    t.clock.advanceSeconds(t.config.refresh.reuseGraceSeconds + 1);
    const reused = await t.gql(REFRESH, { variables: { token: alice.refreshToken } });
    expect(errorOf(reused)?.reason).toBe("refresh_token_reused");
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "token_revoked" });
  });

  it("a narrowed token revoked alone (by jti) at POST /oauth/revoke closes its connections within 1 s, not its session's others", async () => {
    const alice = await registerUser(t);
    const narrowed = await t.gql<{ narrowToken: { accessToken: string } }>(
      'mutation { narrowToken(scopes: ["notes:read"], expiresInSeconds: 300) { accessToken } }',
      { token: alice.accessToken },
    );
    const narrowToken = narrowed.body.data!.narrowToken.accessToken;
    const byNarrowed = await subscribeAs(t, t.base, bearer(narrowToken));
    const byFull = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const revoke = await fetch(`${t.base}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: narrowToken, token_type_hint: "access_token" }),
    });
    expect(revoke.status).toBe(200);
    expect(await closeOf(byNarrowed, 1000)).toEqual({ code: 4401, reason: "token_revoked" });
    await expectStillLive(t, byFull, alice.accessToken);
    byFull.close();
  });
});

describe("expiry and renewal in band", () => {
  const refresh = async (refreshToken: string) => {
    const res = await t.gql<{ refresh: { accessToken: string; refreshToken: string } }>(REFRESH, {
      variables: { token: refreshToken },
    });
    if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
    return res.body.data.refresh;
  };

  it("closes with 4401 token_expired at exp when the token is not renewed", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds - 1);
    await expectStillLive(t, a, (await registerUser(t)).accessToken);
    t.clock.advanceSeconds(1);
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "token_expired" });
  });

  it("a ping carrying a fresh token of the same session keeps the connection past the old exp, without interruption", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds - 60);
    const renewed = await refresh(alice.refreshToken!);
    a.send({ type: "ping", payload: { authorization: bearer(renewed.accessToken) } });
    const pong = await a.next((m) => m.type === "pong");
    expect(pong.payload).toEqual({ expiresAt: expect.any(String) });
    t.clock.advanceSeconds(120);
    const writer = await registerUser(t);
    await expectStillLive(t, a, writer.accessToken);
    // The same subscription ("1") kept streaming: no complete, no re-subscribe.
    expect(a.messages.some((m) => m.type === "complete")).toBe(false);
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds);
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "token_expired" });
  });

  it("a ping carrying another session's token closes with 4403", async () => {
    const alice = await registerUser(t);
    const otherSession = await login(t, alice.user.email);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    a.send({ type: "ping", payload: { authorization: bearer(otherSession.accessToken) } });
    expect(await closeOf(a)).toEqual({ code: 4403, reason: "session_mismatch" });
  });

  it("a ping carrying a dead token closes with 4401 and its reason", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    a.send({ type: "ping", payload: { authorization: "Bearer forged.token.value" } });
    expect(await closeOf(a)).toEqual({ code: 4401, reason: "invalid_token" });
  });

  it("a renewal that narrows the scopes applies to the next event", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const narrowed = await t.gql<{ narrowToken: { accessToken: string } }>(
      'mutation { narrowToken(scopes: ["notes:write"]) { accessToken } }',
      { token: alice.accessToken },
    );
    const token = narrowed.body.data?.narrowToken.accessToken;
    expect(token).toBeTruthy();
    a.send({ type: "ping", payload: { authorization: bearer(token!) } });
    await a.next((m) => m.type === "pong");
    const id = await createNote(t, alice.accessToken);
    const refused = await a.next((m) => m.type === "next" && (m.payload as EventPayload).data === null);
    expect((refused.payload as EventPayload).errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
    expect(JSON.stringify(refused.payload)).not.toContain(id);
    a.close();
  });

  it("a plain ping (no payload) is answered with a pong and changes nothing", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    a.send({ type: "ping" });
    const pong = await a.next((m) => m.type === "pong");
    expect(pong.payload).toBeUndefined();
    await until(() => !a.isClosed());
    await expectStillLive(t, a, alice.accessToken);
    a.close();
  });
});
