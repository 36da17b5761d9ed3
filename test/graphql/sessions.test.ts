import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AuthPayload,
  errorOf,
  login,
  REFRESH,
  registerUser,
  startTestServer,
  type TestServer,
} from "../support/test-server.js";

let t: TestServer;

beforeEach(async () => {
  t = await startTestServer({ REFRESH_REUSE_GRACE_SECONDS: "10" });
});
afterEach(async () => {
  await t.close();
});

async function refresh(token: string) {
  return t.gql<{ refresh: AuthPayload }>(REFRESH, { variables: { token } });
}

function changePassword(accessToken: string, current: string, next: string) {
  return t.gql(
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }",
    {
      token: accessToken,
      variables: { c: current, n: next },
    },
  );
}

async function me(accessToken: string) {
  return t.gql<{ me: { id: string } | null }>("{ me { id } }", { token: accessToken });
}

describe("refresh token rotation", () => {
  it("rotates through a chain of 20 refreshes, each successor working once", async () => {
    const start = await registerUser(t);
    let token = start.refreshToken!;
    const seen = new Set([token]);
    for (let i = 0; i < 20; i++) {
      t.clock.advanceSeconds(60);
      const res = await refresh(token);
      expect(errorOf(res)).toBeUndefined();
      const next = res.body.data!.refresh;
      expect(next.session.id).toBe(start.session.id);
      expect(seen.has(next.refreshToken!)).toBe(false);
      seen.add(next.refreshToken!);
      expect((await me(next.accessToken)).body.data?.me?.id).toBe(start.user.id);
      token = next.refreshToken!;
    }
  });

  it("stores refresh tokens only as hashes", async () => {
    const start = await registerUser(t);
    const rows = await t.database.prisma.refreshToken.findMany({ where: { sessionId: start.session.id } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(start.refreshToken!);
  });

  it("returns the same live tip when a consumed token is presented again within the grace interval", async () => {
    const start = await registerUser(t);
    const first = (await refresh(start.refreshToken!)).body.data!.refresh;
    t.clock.advanceSeconds(9);
    const again = await refresh(start.refreshToken!);
    expect(errorOf(again)).toBeUndefined();
    expect(again.body.data!.refresh.refreshToken).toBe(first.refreshToken);
    // No second branch: the family has exactly one unconsumed token.
    const live = await t.database.prisma.refreshToken.count({
      where: { sessionId: start.session.id, consumedAt: null },
    });
    expect(live).toBe(1);
    // And the tip still rotates normally afterwards.
    expect(errorOf(await refresh(first.refreshToken!))).toBeUndefined();
  });

  it("ends the grace interval exactly at its length: 1 ms before gets the tip, at 10 s it is theft", async () => {
    const early = await registerUser(t);
    const earlyTip = (await refresh(early.refreshToken!)).body.data!.refresh;
    t.clock.advance(9_999);
    expect((await refresh(early.refreshToken!)).body.data?.refresh.refreshToken).toBe(earlyTip.refreshToken);

    const late = await registerUser(t);
    await refresh(late.refreshToken!);
    t.clock.advance(10_000);
    expect(errorOf(await refresh(late.refreshToken!))?.reason).toBe("refresh_token_reused");
  });

  it("walks to the current tip when the client lost two responses in a row", async () => {
    const start = await registerUser(t);
    const a = (await refresh(start.refreshToken!)).body.data!.refresh;
    const b = (await refresh(a.refreshToken!)).body.data!.refresh;
    t.clock.advanceSeconds(5);
    const again = await refresh(start.refreshToken!);
    expect(again.body.data!.refresh.refreshToken).toBe(b.refreshToken);
  });

  it("revokes the whole family when a rotated token is reused after the grace interval", async () => {
    const start = await registerUser(t);
    const tokens = [start.refreshToken!];
    let access = start.accessToken;
    for (let i = 0; i < 4; i++) {
      t.clock.advanceSeconds(30);
      const next = (await refresh(tokens.at(-1)!)).body.data!.refresh;
      tokens.push(next.refreshToken!);
      access = next.accessToken;
    }
    t.clock.advanceSeconds(11);
    const stolen = await refresh(tokens[2]!);
    expect(errorOf(stolen)).toEqual({ code: "UNAUTHENTICATED", reason: "refresh_token_reused" });

    // The legitimate holder is logged out: their refresh token and access token both fail.
    expect(errorOf(await refresh(tokens.at(-1)!))?.code).toBe("UNAUTHENTICATED");
    const denied = await me(access);
    expect(denied.status).toBe(401);
    expect(errorOf(denied)).toEqual({ code: "UNAUTHENTICATED", reason: "token_revoked" });

    const session = await t.database.prisma.session.findUnique({ where: { id: start.session.id } });
    expect(session?.revokedReason).toBe("refresh_token_reused");
    const events = await t.database.prisma.auditEvent.findMany({
      where: { type: "refresh_token.reuse_detected" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.sessionId).toBe(start.session.id);
  });

  it("treats any reuse as theft when the grace interval is 0", async () => {
    await t.close();
    t = await startTestServer({ REFRESH_REUSE_GRACE_SECONDS: "0" });
    const start = await registerUser(t);
    expect(errorOf(await refresh(start.refreshToken!))).toBeUndefined();
    expect(errorOf(await refresh(start.refreshToken!))?.reason).toBe("refresh_token_reused");
  });

  it("lets exactly one of 50 concurrent refreshes of one token create a successor", async () => {
    const start = await registerUser(t);
    const results = await Promise.all(Array.from({ length: 50 }, () => refresh(start.refreshToken!)));
    for (const r of results) {
      expect(r.status).toBeLessThan(500);
      if (r.body.errors) expect(r.body.errors[0]!.extensions?.code).toBe("UNAUTHENTICATED");
    }
    const successors = new Set(results.map((r) => r.body.data?.refresh.refreshToken).filter(Boolean));
    expect(successors.size).toBe(1);
    const rows = await t.database.prisma.refreshToken.findMany({ where: { sessionId: start.session.id } });
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.consumedAt === null)).toHaveLength(1);
  });

  it("refuses malformed, unknown and missing refresh tokens cleanly", async () => {
    expect(errorOf(await refresh("not a token"))?.reason).toBe("invalid_refresh_token");
    expect(errorOf(await refresh("A".repeat(43)))?.reason).toBe("invalid_refresh_token");
    expect(errorOf(await t.gql(REFRESH))?.reason).toBe("invalid_refresh_token");
  });

  it("refuses a refresh after the idle expiry, and after the absolute expiry even when used daily", async () => {
    await t.close();
    t = await startTestServer({ REFRESH_IDLE_TTL_SECONDS: "3600", REFRESH_ABSOLUTE_TTL_SECONDS: "7200" });
    const idle = await registerUser(t);
    t.clock.advanceSeconds(3601);
    expect(errorOf(await refresh(idle.refreshToken!))?.reason).toBe("invalid_refresh_token");

    const busy = await registerUser(t);
    let token = busy.refreshToken!;
    for (let elapsed = 0; elapsed < 7200 - 1800; elapsed += 1800) {
      t.clock.advanceSeconds(1800);
      token = (await refresh(token)).body.data!.refresh.refreshToken!;
    }
    t.clock.advanceSeconds(1801);
    expect(errorOf(await refresh(token))?.reason).toBe("invalid_refresh_token");
  });

  it("never lets the idle expiry of a successor pass the family's absolute expiry", async () => {
    await t.close();
    t = await startTestServer({ REFRESH_IDLE_TTL_SECONDS: "3600", REFRESH_ABSOLUTE_TTL_SECONDS: "5000" });
    const start = await registerUser(t);
    t.clock.advanceSeconds(3000);
    await refresh(start.refreshToken!);
    const session = await t.database.prisma.session.findUniqueOrThrow({ where: { id: start.session.id } });
    expect(session.idleExpiresAt.getTime()).toBe(session.absoluteExpiresAt.getTime());
  });
});

describe("logout", () => {
  it("refuses the access token of a logged-out session on the next request, before it expires", async () => {
    const user = await registerUser(t);
    expect((await me(user.accessToken)).status).toBe(200);
    const out = await t.gql("mutation { logout }", { token: user.accessToken });
    expect(out.body.data).toEqual({ logout: true });
    const after = await me(user.accessToken);
    expect(after.status).toBe(401);
    expect(errorOf(after)).toEqual({ code: "UNAUTHENTICATED", reason: "token_revoked" });
    expect(after.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
  });

  it("refuses a refresh after logout", async () => {
    const user = await registerUser(t);
    await t.gql("mutation { logout }", { token: user.accessToken });
    expect(errorOf(await refresh(user.refreshToken!))?.reason).toBe("invalid_refresh_token");
  });

  it("logoutEverywhere ends every session of the caller and no one else's", async () => {
    const a1 = await registerUser(t);
    const a2 = await login(t, a1.user.email);
    const other = await registerUser(t);
    await t.gql("mutation { logoutEverywhere }", { token: a1.accessToken });
    expect((await me(a1.accessToken)).status).toBe(401);
    expect((await me(a2.accessToken)).status).toBe(401);
    expect(errorOf(await refresh(a2.refreshToken!))?.code).toBe("UNAUTHENTICATED");
    expect((await me(other.accessToken)).body.data?.me?.id).toBe(other.user.id);
  });

  it("keeps refusing revoked sessions on a restarted instance (revocations load at start)", async () => {
    const user = await registerUser(t);
    await t.gql("mutation { logout }", { token: user.accessToken });
    const restarted = await startTestServer({}, { clock: t.clock, database: t.database as never });
    try {
      // Same signing keys (shared database), fresh memory: the revocation must come from the database.
      expect((await restarted.gql("{ me { id } }", { token: user.accessToken })).status).toBe(401);
    } finally {
      await restarted.server.close();
    }
  });

  it("forgets a revocation once every token of the session has expired, counting twice the clock tolerance", async () => {
    const user = await registerUser(t);
    await t.gql("mutation { logout }", { token: user.accessToken });
    expect(t.server.revocations.has(user.session.id)).toBe(true);
    const { accessTokenTtlSeconds: ttl, clockToleranceSeconds: tolerance } = t.config.tokens;
    // A token issued by an instance up to one tolerance ahead is accepted up to one tolerance past its exp.
    t.clock.advanceSeconds(ttl + 2 * tolerance - 1);
    expect(t.server.revocations.has(user.session.id)).toBe(true);
    t.clock.advanceSeconds(2);
    expect(t.server.revocations.has(user.session.id)).toBe(false);
  });
});

describe("sessions", () => {
  const SESSIONS = "{ sessions { id current userAgent boundToKey } }";

  it("lists the caller's live sessions and marks the current one", async () => {
    const first = await registerUser(t);
    const second = await login(t, first.user.email, { headers: { "user-agent": "HoldfastTest/1.0" } });
    const res = await t.gql<{ sessions: { id: string; current: boolean; userAgent: string | null }[] }>(
      SESSIONS,
      {
        token: second.accessToken,
      },
    );
    const list = res.body.data!.sessions;
    expect(list.map((s) => s.id).sort()).toEqual([first.session.id, second.session.id].sort());
    expect(list.find((s) => s.current)?.id).toBe(second.session.id);
    expect(list.find((s) => s.id === second.session.id)?.userAgent).toBe("HoldfastTest/1.0");
  });

  it("revokeSession ends one of the caller's sessions", async () => {
    const first = await registerUser(t);
    const second = await login(t, first.user.email);
    const res = await t.gql("mutation($id: ID!) { revokeSession(id: $id) }", {
      token: second.accessToken,
      variables: { id: first.session.id },
    });
    expect(res.body.data).toEqual({ revokeSession: true });
    expect((await me(first.accessToken)).status).toBe(401);
    expect((await me(second.accessToken)).status).toBe(200);
  });

  it("does not let a user revoke, or learn of, another user's session", async () => {
    const victim = await registerUser(t);
    const attacker = await registerUser(t);
    const res = await t.gql("mutation($id: ID!) { revokeSession(id: $id) }", {
      token: attacker.accessToken,
      variables: { id: victim.session.id },
    });
    expect(errorOf(res)?.code).toBe("NOT_FOUND");
    const missing = await t.gql("mutation($id: ID!) { revokeSession(id: $id) }", {
      token: attacker.accessToken,
      variables: { id: "00000000-0000-7000-8000-000000000000" },
    });
    expect(errorOf(missing)).toEqual(errorOf(res));
    expect((await me(victim.accessToken)).status).toBe(200);
    const list = await t.gql<{ sessions: { id: string }[] }>(SESSIONS, { token: attacker.accessToken });
    expect(list.body.data!.sessions.map((s) => s.id)).toEqual([attacker.session.id]);
  });

  it("another user's refresh token does not touch your sessions", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const bobs = (await refresh(bob.refreshToken!)).body.data!.refresh;
    expect(bobs.session.id).toBe(bob.session.id);
    expect((await me(alice.accessToken)).status).toBe(200);
    expect(errorOf(await refresh(alice.refreshToken!))).toBeUndefined();
  });

  it("changePassword ends every other session but keeps the caller's", async () => {
    const a = await registerUser(t);
    const b = await login(t, a.user.email);
    const res = await changePassword(a.accessToken, "correct horse battery staple", "a brand new passphrase");
    expect(res.body.data).toEqual({ changePassword: true });
    expect((await me(a.accessToken)).status).toBe(200);
    expect((await me(b.accessToken)).status).toBe(401);
    const old = await t.gql("mutation($i: LoginInput!) { login(input: $i) { accessToken } }", {
      variables: { i: { email: a.user.email, password: "correct horse battery staple" } },
    });
    expect(errorOf(old)?.reason).toBe("invalid_credentials");
  });

  it("changePassword with a wrong current password changes nothing", async () => {
    const a = await registerUser(t);
    const b = await login(t, a.user.email);
    const res = await changePassword(a.accessToken, "wrong password here", "another long passphrase");
    expect(errorOf(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_current_password" });
    expect((await me(b.accessToken)).status).toBe(200);
  });
});

describe("one credential field per operation", () => {
  it("refuses an aliased r1: refresh r2: refresh operation whole, before anything runs", async () => {
    const user = await registerUser(t);
    const res = await t.gql(
      `mutation($t: String) { r1: refresh(refreshToken: $t) { accessToken } r2: refresh(refreshToken: $t) { accessToken } }`,
      { variables: { t: user.refreshToken } },
    );
    expect(res.body.data).toBeUndefined();
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "multiple_credential_fields" });
    // Nothing was consumed: the token still rotates once.
    expect(errorOf(await refresh(user.refreshToken!))).toBeUndefined();
  });

  it("refuses login and register hidden in fragments of one operation", async () => {
    const res = await t.gql(
      `mutation { ...A ... on Mutation { login(input: {email: "a@b.co", password: "x"}) { accessToken } } }
       fragment A on Mutation { register(input: {email: "c@d.co", password: "yyyyyyyyyyyyyy", displayName: "C"}) { accessToken } }`,
    );
    expect(errorOf(res)?.reason).toBe("multiple_credential_fields");
    expect(await t.database.prisma.user.count()).toBe(0);
  });
});

describe("refresh token delivery", () => {
  it("sets an HttpOnly, Secure, SameSite=Strict __Host- cookie for COOKIE delivery and keeps the token out of the body", async () => {
    const user = await registerUser(t);
    const res = await t.gql<{ login: AuthPayload }>(
      "mutation($i: LoginInput!) { login(input: $i) { refreshToken accessToken } }",
      { variables: { i: { email: user.user.email, password: "correct horse battery staple" } } },
    );
    expect(res.body.data!.login.refreshToken).toBeNull();
    const cookie = res.setCookies["__Host-holdfast_rt"]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);

    const value = cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf(";"));
    const rotated = await t.gql<{ refresh: AuthPayload }>(REFRESH, {
      cookies: { "__Host-holdfast_rt": value },
    });
    expect(rotated.body.data!.refresh.refreshToken).toBeNull();
    expect(rotated.setCookies["__Host-holdfast_rt"]).toBeDefined();
  });

  it("never sets the cookie for BODY delivery", async () => {
    const user = await registerUser(t);
    const res = await t.gql("mutation($i: LoginInput!) { login(input: $i) { refreshToken } }", {
      variables: {
        i: { email: user.user.email, password: "correct horse battery staple", refreshTokenDelivery: "BODY" },
      },
    });
    expect(typeof (res.body.data as { login: { refreshToken: string } }).login.refreshToken).toBe("string");
    expect(Object.keys(res.setCookies)).toEqual([]);
  });

  it("does not read the refresh cookie anywhere but the refresh mutation", async () => {
    const user = await registerUser(t);
    // A cookie alone authenticates nothing: `me` is anonymous.
    const res = await t.gql<{ me: null }>("{ me { id } }", {
      cookies: { "__Host-holdfast_rt": user.refreshToken! },
    });
    expect(res.body.data?.me).toBeNull();
  });
});
