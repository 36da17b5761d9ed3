// narrowToken: a subset of the caller's scopes, a lifetime no longer than what the caller's token has
// left (default 60 s), the same session and key binding, and no refresh token.
import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { epochSeconds } from "../../src/clock.js";
import { type SeededUser, seedUser, tokenFor } from "../support/as-viewer.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import { countNotes } from "../support/notes-table.js";
import { errorOf, type RequestOptions, startTestServer, type TestServer } from "../support/test-server.js";

const NARROW = `mutation($s: [String!]!, $e: Int) {
  narrowToken(scopes: $s, expiresInSeconds: $e) { accessToken tokenType expiresAt scopes }
}`;

interface Narrowed {
  accessToken: string;
  tokenType: string;
  expiresAt: string;
  scopes: string[];
}

let t: TestServer;
let alice: SeededUser;
let parent: string;

beforeEach(async () => {
  // No clock tolerance: expiry boundaries are exact.
  t = await startTestServer({ CLOCK_TOLERANCE_SECONDS: "0" });
  alice = await seedUser(t);
  parent = await tokenFor(t, alice, defaultScopeCatalogue.grantedAtLogin("user"));
});
afterEach(async () => {
  await t.close();
});

async function narrow(
  token: string,
  scopes: string[],
  expiresInSeconds?: number,
  options: RequestOptions = {},
) {
  return t.gql<{ narrowToken: Narrowed }>(NARROW, {
    token,
    ...options,
    variables: { s: scopes, ...(expiresInSeconds === undefined ? {} : { e: expiresInSeconds }) },
  });
}

async function narrowed(token: string, scopes: string[], expiresInSeconds?: number): Promise<Narrowed> {
  const res = await narrow(token, scopes, expiresInSeconds);
  if (!res.body.data?.narrowToken) throw new Error(`narrowToken failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data.narrowToken;
}

describe("narrowToken", () => {
  it("carries exactly the scopes asked for, names the same session and user, and issues no refresh token", async () => {
    const before = await t.database.prisma.refreshToken.count({ where: { sessionId: alice.sessionId } });
    const token = await narrowed(parent, ["notes:read", "notes:read"]);
    expect(token.scopes).toEqual(["notes:read"]);
    expect(token.tokenType).toBe("Bearer");
    const claims = decodeJwt(token.accessToken);
    expect(claims).toMatchObject({ scope: "notes:read", sid: alice.sessionId, sub: alice.id });
    expect(claims.cnf).toBeUndefined();
    expect(await t.database.prisma.refreshToken.count({ where: { sessionId: alice.sessionId } })).toBe(
      before,
    );
  });

  it("cannot reach a scope it dropped", async () => {
    const token = (await narrowed(parent, ["notes:read"])).accessToken;
    expect(errorOf(await t.gql("{ notes { edges { cursor } } }", { token }))).toBeUndefined();
    const sessions = await t.gql("{ sessions { id } }", { token });
    expect(sessions.body.errors?.[0]?.extensions).toEqual({
      code: "FORBIDDEN",
      reason: "insufficient_scope",
      requiredScopes: [["sessions:read"]],
    });
    const write = await t.gql('mutation { createNote(input: { title: "t", body: "b" }) { id } }', { token });
    expect(errorOf(write)).toEqual({ code: "FORBIDDEN", reason: "insufficient_scope" });
    expect(await countNotes(t.database, alice.id)).toBe(0);
  });

  it("keeps a scope marked keptOnlyWhenNamed (account:manage) only when it is named", async () => {
    expect(defaultScopeCatalogue.keptOnlyWhenNamed("account:manage")).toBe(true);
    const widget = await narrowed(parent, ["notes:read", "sessions:read"]);
    expect(widget.scopes).not.toContain("account:manage");
    expect(errorOf(await t.gql("mutation { logout }", { token: widget.accessToken }))).toEqual({
      code: "FORBIDDEN",
      reason: "insufficient_scope",
    });
    const named = await narrowed(parent, ["account:manage"]);
    expect(named.scopes).toEqual(["account:manage"]);
  });

  it("cannot be widened again by narrowing the narrowed token", async () => {
    const token = (await narrowed(parent, ["notes:read"])).accessToken;
    const wider = await narrow(token, ["notes:read", "sessions:read"]);
    expect(errorOf(wider)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_scope" });
    expect(wider.body.errors?.[0]?.extensions?.field).toBe("scopes");
    expect((await narrowed(token, ["notes:read"])).scopes).toEqual(["notes:read"]);
  });

  it.each([
    ["a scope the account is not granted", "notes:read:any"],
    ["a scope outside the catalogue", "root"],
    ["two scopes smuggled in one string", "notes:read sessions:read"],
    ["an empty scope", ""],
  ])("refuses %s with BAD_USER_INPUT invalid_scope", async (_name, scope) => {
    const token = await tokenFor(t, alice, ["notes:read"]);
    const res = await narrow(token, [scope]);
    expect(errorOf(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_scope" });
    expect(res.body.data).toBeNull();
  });

  it("lives 60 seconds by default", async () => {
    const token = await narrowed(parent, ["notes:read"]);
    const claims = decodeJwt(token.accessToken);
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.exp).toBe(epochSeconds(t.clock.now()) + 60);
    expect(new Date(token.expiresAt).getTime()).toBe(claims.exp! * 1000);
  });

  it("never outlives the caller's token, whatever it asks for", async () => {
    const parentExp = decodeJwt(parent).exp!;
    t.clock.advanceSeconds(280);
    const long = await narrowed(parent, ["notes:read"], 3600);
    expect(decodeJwt(long.accessToken).exp).toBe(parentExp);
    // The default (60 s) is capped too when less is left.
    expect(decodeJwt((await narrowed(parent, ["notes:read"])).accessToken).exp).toBe(parentExp);

    t.clock.advanceSeconds(parentExp - epochSeconds(t.clock.now()) - 1);
    expect(errorOf(await t.gql("{ me { id } }", { token: long.accessToken }))).toBeUndefined();
    t.clock.advanceSeconds(1);
    const expired = await t.gql("{ me { id } }", { token: long.accessToken });
    expect(expired.status).toBe(401);
    expect(errorOf(expired)).toEqual({ code: "UNAUTHENTICATED", reason: "token_expired" });
  });

  it("dies with the caller's session", async () => {
    const token = (await narrowed(parent, ["notes:read"])).accessToken;
    expect(errorOf(await t.gql("mutation { logout }", { token: parent }))).toBeUndefined();
    const res = await t.gql("{ me { id } }", { token });
    expect(res.status).toBe(401);
    expect(errorOf(res)).toEqual({ code: "UNAUTHENTICATED", reason: "token_revoked" });
  });

  it("refuses a lifetime that is not a positive number of seconds", async () => {
    for (const seconds of [0, -60]) {
      expect(errorOf(await narrow(parent, ["notes:read"], seconds))).toEqual({
        code: "BAD_USER_INPUT",
        reason: "invalid_lifetime",
      });
    }
  });

  it("keeps the caller's DPoP binding: the narrowed token is bound to the same key", async () => {
    const key = await createDpopKey();
    const bound = await tokenFor(t, alice, defaultScopeCatalogue.grantedAtLogin("user"), { jkt: key.jkt });
    const htu = `${t.config.server.publicUrl}${t.config.server.graphqlPath}`;
    const proof = (accessToken: string) =>
      createDpopProof(key, { htm: "POST", htu, accessToken, iat: t.clock.now() });
    const res = await narrow(bound, ["notes:read"], undefined, {
      authorization: `DPoP ${bound}`,
      headers: { dpop: await proof(bound) },
    });
    const token = res.body.data?.narrowToken;
    expect(token?.tokenType).toBe("DPoP");
    expect(decodeJwt(token!.accessToken).cnf).toEqual({ jkt: key.jkt });
    // Without the key, the narrowed token is as useless as its parent.
    const asBearer = await t.gql("{ me { id } }", { token: token!.accessToken });
    expect(asBearer.status).toBe(401);
    const withKey = await t.gql<{ me: { id: string } }>("{ me { id } }", {
      authorization: `DPoP ${token!.accessToken}`,
      headers: { dpop: await proof(token!.accessToken) },
    });
    expect(withKey.body.data?.me.id).toBe(alice.id);
  });
});
