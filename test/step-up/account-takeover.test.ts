// The four findings of a copied access token taking an account over, each tried again as an
// attacker would, through the real HTTP server, and RFC 9470 step-up doing its part.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/test-server.js";
import { type Account, claimsOf, refusal, register, type StepUpWorld, startStepUpWorld } from "./support.js";

const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
const NEW_PASSWORD = "a brand new long passphrase";
const REAUTH = `mutation($p: String) { reauthenticate(password: $p) { accessToken tokenType refreshToken scopes session { id current } } }`;
const NARROW = `mutation($s: [String!]!) { narrowToken(scopes: $s) { accessToken scopes } }`;

let w: StepUpWorld;
beforeAll(async () => {
  w = await startStepUpWorld();
});
afterAll(async () => {
  await w?.close();
});

const maxAge = () => w.t.config.stepUp.maxAgeSeconds;

/** The refresh token each account's family holds now (staleToken rotates it). */
const successors = new Map<Account, string>();

/** A token of the victim's session whose authentication is older than the step-up window. */
async function staleToken(victim: Account): Promise<string> {
  w.t.clock.advanceSeconds(maxAge() + 1);
  const res = await w.post<{ refresh: { accessToken: string; refreshToken: string } }>(
    `mutation($r: String) { refresh(refreshToken: $r) { accessToken refreshToken } }`,
    { variables: { r: successors.get(victim) ?? victim.refreshToken } },
  );
  const token = res.body.data?.refresh.accessToken;
  if (!token) throw new Error(`refresh failed: ${JSON.stringify(res.body.errors)}`);
  successors.set(victim, res.body.data!.refresh.refreshToken);
  return token;
}

async function liveSessions(userId: string) {
  return w.t.database.prisma.session.count({ where: { userId, revokedAt: null } });
}

describe("finding 1: changePassword is no longer a password-guessing oracle", () => {
  it("refuses a copied token whose authentication is old with HTTP 401 and RFC 9470's challenge", async () => {
    const victim = await register(w);
    const stolen = await staleToken(victim);
    const res = await w.post(CHANGE_PASSWORD, {
      token: stolen,
      variables: { c: "guess 1 guess 1", n: NEW_PASSWORD },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(
      new RegExp(`^Bearer error="insufficient_user_authentication", .*max_age="${maxAge()}"`),
    );
    expect(res.body.errors?.[0]?.extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "insufficient_user_authentication",
      maxAge: maxAge(),
    });
    // Not one guess was judged: even the right password gets the same refusal.
    const right = await w.post(CHANGE_PASSWORD, {
      token: stolen,
      variables: { c: TEST_PASSWORD, n: NEW_PASSWORD },
    });
    expect(refusal(right)?.reason).toBe("insufficient_user_authentication");
    expect(await liveSessions(victim.userId)).toBe(1);
  });

  it("limits guesses with a fresh token like login: 5 wrong, then TOO_MANY_REQUESTS even for the right one", async () => {
    const victim = await register(w);
    for (let i = 0; i < 5; i++) {
      const res = await w.post(CHANGE_PASSWORD, {
        token: victim.accessToken,
        variables: { c: `wrong guess number ${i}`, n: NEW_PASSWORD },
      });
      expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_current_password" });
    }
    const right = await w.post(CHANGE_PASSWORD, {
      token: victim.accessToken,
      variables: { c: TEST_PASSWORD, n: NEW_PASSWORD },
    });
    expect(refusal(right)?.code).toBe("TOO_MANY_REQUESTS");
    // The account's login shares the limit: guesses through changePassword are not a side door.
    const login = await w.post(`mutation($i: LoginInput!) { login(input: $i) { accessToken } }`, {
      variables: { i: { email: victim.email, password: TEST_PASSWORD } },
    });
    expect(refusal(login)?.code).toBe("TOO_MANY_REQUESTS");
  });

  it("refuses several changePassword calls in one operation (aliases cannot multiply guesses)", async () => {
    const victim = await register(w);
    const res = await w.post(
      `mutation { a: changePassword(currentPassword: "guess one guess", newPassword: "${NEW_PASSWORD}") b: changePassword(currentPassword: "guess two guess", newPassword: "${NEW_PASSWORD}") }`,
      { token: victim.accessToken },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.reason).toBe("multiple_credential_fields");
  });

  it("lets the owner change the password with a recent login, ending every other session", async () => {
    const victim = await register(w);
    const other = await register(w);
    const res = await w.post(CHANGE_PASSWORD, {
      token: victim.accessToken,
      variables: { c: TEST_PASSWORD, n: NEW_PASSWORD },
    });
    expect(res.body.data).toEqual({ changePassword: true });
    expect(await liveSessions(victim.userId)).toBe(1);
    expect(await liveSessions(other.userId)).toBe(1);
  });
});

describe("finding 2: a narrowed token cannot act on the account", () => {
  const ACTIONS: [string, (a: Account) => { query: string; variables?: Record<string, unknown> }][] = [
    ["logout", () => ({ query: "mutation { logout }" })],
    ["logoutEverywhere", () => ({ query: "mutation { logoutEverywhere }" })],
    [
      "revokeSession",
      (a) => ({ query: "mutation($id: ID!) { revokeSession(id: $id) }", variables: { id: a.sessionId } }),
    ],
    ["changePassword", () => ({ query: CHANGE_PASSWORD, variables: { c: TEST_PASSWORD, n: NEW_PASSWORD } })],
    ["reauthenticate", () => ({ query: REAUTH, variables: { p: TEST_PASSWORD } })],
    ["passkeyRegistrationOptions", () => ({ query: "mutation { passkeyRegistrationOptions }" })],
  ];

  it.each(ACTIONS)(
    "a scope-less widget token gets FORBIDDEN from %s, and the session lives on",
    async (_n, call) => {
      const victim = await register(w);
      const narrowed = await w.post<{ narrowToken: { accessToken: string } }>(NARROW, {
        token: victim.accessToken,
        variables: { s: [] },
      });
      const widget = narrowed.body.data!.narrowToken.accessToken;
      const { query, variables } = call(victim);
      const res = await w.post(query, { token: widget, ...(variables ? { variables } : {}) });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({
        code: "FORBIDDEN",
        requiredScopes: [["account:manage"]],
      });
      expect(await liveSessions(victim.userId)).toBe(1);
    },
  );

  it("keeps account:manage only when asked for by name, and never raises auth_time", async () => {
    const victim = await register(w);
    const stale = await staleToken(victim);
    const narrowed = await w.post<{ narrowToken: { accessToken: string; scopes: string[] } }>(NARROW, {
      token: stale,
      variables: { s: ["account:manage"] },
    });
    const token = narrowed.body.data!.narrowToken.accessToken;
    expect(claimsOf(token).auth_time).toBe(claimsOf(stale).auth_time);
    const res = await w.post("mutation { logoutEverywhere }", { token });
    expect(refusal(res)?.reason).toBe("insufficient_user_authentication");
    expect(await liveSessions(victim.userId)).toBe(1);
  });
});

describe("finding 3: the user directory is not anonymous", () => {
  it("refuses anonymous users(first: 100) and user(id)", async () => {
    const victim = await register(w);
    const list = await w.post("{ users(first: 100) { edges { node { id displayName role createdAt } } } }");
    expect(list.body.data).toBeNull();
    expect(refusal(list)).toEqual({ code: "UNAUTHENTICATED", reason: "authentication_required" });
    const one = await w.post("query($id: ID!) { user(id: $id) { displayName role } }", {
      variables: { id: victim.userId },
    });
    expect(one.body.data?.user).toBeNull();
    expect(refusal(one)).toEqual({ code: "UNAUTHENTICATED", reason: "authentication_required" });
  });

  it("lists users for a signed-in token holding users:read", async () => {
    const reader = await register(w);
    const res = await w.post<{ users: { edges: unknown[] } }>(
      "{ users(first: 2) { edges { node { id } } } }",
      {
        token: reader.accessToken,
      },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.users.edges.length).toBeGreaterThan(0);
  });
});

describe("finding 4: registration refuses look-alike and invisible identities", () => {
  const REGISTER = `mutation($i: RegisterInput!) { register(input: $i) { user { id email displayName } } }`;
  let n = 0;
  const attempt = (email: string, displayName = "Someone") =>
    w.post<{ register: { user: { email: string; displayName: string } } }>(REGISTER, {
      variables: { i: { email, password: TEST_PASSWORD, displayName } },
    });
  const fresh = () => `hygiene${++n}-${Date.now()}`;
  // Characters no address or name should carry: controls, invisible and direction-changing ones.
  const CONTROL_CHARACTERS = [
    ["NUL", "\u0000"],
    ["BEL", "\u0007"],
    ["zero-width space", "\u200b"],
    ["right-to-left override", "\u202e"],
    ["a lone surrogate", "\ud800"],
  ];

  it.each(CONTROL_CHARACTERS)("refuses an email containing %s with BAD_USER_INPUT", async (_name, char) => {
    const res = await attempt(`${fresh()}${char}@example.com`);
    expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_email" });
  });

  it.each(CONTROL_CHARACTERS)(
    "refuses a display name containing %s with BAD_USER_INPUT (never INTERNAL_SERVER_ERROR)",
    async (_n, char) => {
      const res = await attempt(`${fresh()}@example.com`, `Ada${char}Lovelace`);
      expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_display_name" });
    },
  );

  it("refuses a homoglyph of an existing address (Cyrillic а for Latin a)", async () => {
    const local = fresh();
    expect((await attempt(`${local}a@example.com`)).body.data?.register).toBeTruthy();
    const res = await attempt(`${local}\u0430@example.com`);
    expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_email" });
  });

  it("treats NFKC and case look-alikes of an existing address as that address", async () => {
    const local = fresh();
    const created = await attempt(`${local}@example.com`);
    expect(created.body.data?.register.user.email).toBe(`${local}@example.com`);
    // Fullwidth letters and upper case are the same address after NFKC and case folding.
    const fullwidth = [...local.toUpperCase()]
      .map((c) => (/[A-Z]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
      .join("");
    expect(refusal(await attempt(`${fullwidth}@example.com`))).toEqual({
      code: "BAD_USER_INPUT",
      reason: "email_taken",
    });
  });

  it("stores an NFD display name in NFC form, and refuses a mixed-script one", async () => {
    const ok = await attempt(`${fresh()}@example.com`, "Jose\u0301");
    expect(ok.body.data?.register.user.displayName).toBe("Jos\u00e9");
    const mixed = await attempt(`${fresh()}@example.com`, "\u0410dmin");
    expect(refusal(mixed)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_display_name" });
  });

  it("refuses a lone surrogate in a password as bad input", async () => {
    const res = await w.post(REGISTER, {
      variables: {
        i: { email: `${fresh()}@example.com`, password: "long enough pass\ud800", displayName: "X" },
      },
    });
    expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_password" });
  });
});

describe("step-up: reauthenticate raises the current session", () => {
  it("answers a fresh token of the same session (no refresh token, no new session) that passes step-up", async () => {
    const victim = await register(w);
    const stale = await staleToken(victim);
    const res = await w.post<{
      reauthenticate: {
        accessToken: string;
        tokenType: string;
        refreshToken: string | null;
        session: { id: string; current: boolean };
      };
    }>(REAUTH, { token: stale, variables: { p: TEST_PASSWORD } });
    const payload = res.body.data!.reauthenticate;
    expect(payload.refreshToken).toBeNull();
    expect(payload.session).toEqual({ id: victim.sessionId, current: true });
    const claims = claimsOf(payload.accessToken);
    expect(claims.sid).toBe(victim.sessionId);
    expect(claims.auth_time).toBe(Math.floor(w.t.clock.now().getTime() / 1000));
    expect(claims).toMatchObject({ acr: "pwd", amr: ["pwd"] });
    expect(await liveSessions(victim.userId)).toBe(1);
    const change = await w.post(CHANGE_PASSWORD, {
      token: payload.accessToken,
      variables: { c: TEST_PASSWORD, n: NEW_PASSWORD },
    });
    expect(change.body.data).toEqual({ changePassword: true });
  });

  it("keeps the raised authentication across later refreshes of the family", async () => {
    const victim = await register(w);
    const stale = await staleToken(victim);
    await w.post(REAUTH, { token: stale, variables: { p: TEST_PASSWORD } });
    const raisedAt = Math.floor(w.t.clock.now().getTime() / 1000);
    w.t.clock.advanceSeconds(30);
    const res = await w.post<{ refresh: { accessToken: string } }>(
      `mutation($r: String) { refresh(refreshToken: $r) { accessToken } }`,
      { variables: { r: successors.get(victim) } },
    );
    const claims = claimsOf(res.body.data!.refresh.accessToken);
    expect(claims.auth_time).toBe(raisedAt);
    expect(claims.sid).toBe(victim.sessionId);
    const ok = await w.post("mutation { logoutEverywhere }", { token: res.body.data!.refresh.accessToken });
    expect(ok.body.data).toEqual({ logoutEverywhere: true });
  });

  it("refuses a wrong password, counted like a login failure", async () => {
    const victim = await register(w);
    const res = await w.post(REAUTH, {
      token: victim.accessToken,
      variables: { p: "not the password at all" },
    });
    expect(refusal(res)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_credentials" });
  });

  it("a stolen token stays stale after its owner reauthenticates, and a replayed reauthenticated token ages out", async () => {
    const victim = await register(w);
    const stolen = await staleToken(victim);
    const owner = await w.post<{ reauthenticate: { accessToken: string } }>(REAUTH, {
      token: stolen,
      variables: { p: TEST_PASSWORD },
    });
    const fresh = owner.body.data!.reauthenticate.accessToken;
    // The thief's copy names the same session but carries the old auth_time: still refused.
    expect(refusal(await w.post("mutation { logoutEverywhere }", { token: stolen }))?.reason).toBe(
      "insufficient_user_authentication",
    );
    // A copy of the owner's raised token, replayed once the window has passed, is refused again.
    w.t.clock.advanceSeconds(maxAge() + 1);
    const replay = await w.post(CHANGE_PASSWORD, {
      token: fresh,
      variables: { c: TEST_PASSWORD, n: NEW_PASSWORD },
    });
    expect(refusal(replay)?.reason).toMatch(/insufficient_user_authentication|token_expired/);
    expect(await liveSessions(victim.userId)).toBe(1);
  });

  it("revokes another of the caller's sessions only after step-up, but ends its own without", async () => {
    const victim = await register(w);
    const second = await w.post<{ login: { session: { id: string } } }>(
      `mutation($i: LoginInput!) { login(input: $i) { session { id } } }`,
      { variables: { i: { email: victim.email, password: TEST_PASSWORD } } },
    );
    const secondId = second.body.data!.login.session.id;
    const stale = await staleToken(victim);
    const other = await w.post("mutation($id: ID!) { revokeSession(id: $id) }", {
      token: stale,
      variables: { id: secondId },
    });
    expect(other.status).toBe(401);
    expect(refusal(other)?.reason).toBe("insufficient_user_authentication");
    const own = await w.post("mutation($id: ID!) { revokeSession(id: $id) }", {
      token: stale,
      variables: { id: victim.sessionId },
    });
    expect(own.body.data).toEqual({ revokeSession: true });
  });

  it("leaves a partly answered operation at HTTP 200, the refusal in the field's extensions", async () => {
    const victim = await register(w);
    const stale = await staleToken(victim);
    const res = await w.post("{ me { id } passkeys { id } }", { token: stale });
    // passkeys needs only account:manage (listing is not a takeover): both fields answer.
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
