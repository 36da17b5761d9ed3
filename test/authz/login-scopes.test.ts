// login(input.scopes): a subset of what the account's role grants; the token carries exactly that.
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { type SeededUser, seedUser } from "../support/as-viewer.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import {
  type AuthPayload,
  errorOf,
  LOGIN,
  REFRESH,
  TEST_PASSWORD,
  useTestServer,
} from "../support/test-server.js";

const t = useTestServer();

function login(user: SeededUser, scopes?: string[]) {
  return t.gql<{ login: AuthPayload }>(LOGIN, {
    variables: {
      input: {
        email: user.email,
        password: TEST_PASSWORD,
        refreshTokenDelivery: "BODY",
        ...(scopes ? { scopes } : {}),
      },
    },
  });
}

function scopesOf(accessToken: string): string[] {
  const scope = decodeJwt(accessToken).scope;
  return typeof scope === "string" && scope !== "" ? scope.split(" ") : [];
}

describe("login with scopes", () => {
  it("issues a token that carries exactly the scopes asked for, and nothing else works", async () => {
    const user = await seedUser(t);
    const res = await login(user, ["notes:read"]);
    const payload = res.body.data!.login;
    expect(payload.scopes).toEqual(["notes:read"]);
    expect(scopesOf(payload.accessToken)).toEqual(["notes:read"]);
    const token = payload.accessToken;
    expect(errorOf(await t.gql("{ notes { edges { cursor } } }", { token }))).toBeUndefined();
    expect(errorOf(await t.gql("{ sessions { id } }", { token }))).toEqual({
      code: "FORBIDDEN",
      reason: "insufficient_scope",
    });
  });

  it("grants every scope of the role when none are asked for", async () => {
    const user = await seedUser(t);
    const payload = (await login(user)).body.data!.login;
    expect(payload.scopes).toEqual(defaultScopeCatalogue.grantedAtLogin("user"));
    expect(scopesOf(payload.accessToken)).toEqual(defaultScopeCatalogue.grantedAtLogin("user"));
  });

  it("collapses duplicates, and an empty list gives a token with no scopes", async () => {
    const user = await seedUser(t);
    expect(scopesOf((await login(user, ["notes:read", "notes:read"])).body.data!.login.accessToken)).toEqual([
      "notes:read",
    ]);
    const empty = (await login(user, [])).body.data!.login;
    expect(scopesOf(empty.accessToken)).toEqual([]);
    expect(errorOf(await t.gql("{ notes { edges { cursor } } }", { token: empty.accessToken }))?.code).toBe(
      "FORBIDDEN",
    );
  });

  it.each([
    ["a scope only admins are granted", ["notes:read", "notes:read:any"]],
    ["a scope outside the catalogue", ["root"]],
    ["two scopes in one string", ["notes:read notes:write"]],
  ])("refuses %s with BAD_USER_INPUT invalid_scope, and starts no session", async (_name, scopes) => {
    const user = await seedUser(t);
    const before = await t.database.prisma.session.count({ where: { userId: user.id } });
    const res = await login(user, scopes);
    expect(errorOf(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_scope" });
    expect(res.body.data).toBeNull();
    expect(await t.database.prisma.session.count({ where: { userId: user.id } })).toBe(before);
  });

  it("lets an admin ask for an admin scope", async () => {
    const admin = await seedUser(t, { role: "admin" });
    const payload = (await login(admin, ["users:read:email"])).body.data!.login;
    expect(scopesOf(payload.accessToken)).toEqual(["users:read:email"]);
  });

  it("keeps the asked scopes across refresh: rotation never widens a session", async () => {
    const user = await seedUser(t);
    const first = (await login(user, ["sessions:read"])).body.data!.login;
    const res = await t.gql<{ refresh: AuthPayload }>(REFRESH, { variables: { token: first.refreshToken } });
    const next = res.body.data!.refresh;
    expect(next.scopes).toEqual(["sessions:read"]);
    expect(scopesOf(next.accessToken)).toEqual(["sessions:read"]);
  });
});
