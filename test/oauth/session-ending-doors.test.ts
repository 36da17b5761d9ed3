// One authorization rule per action, whatever the door: every way to end a session (GraphQL logout,
// logoutEverywhere, revokeSession, admin revokeSession, RFC 7009 revoke with an access or a refresh
// token) is tried over real HTTP with a full token, a narrowed token without `account:manage` and
// one with it, and checked against the same table.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthPayload, registerUser, startTestServer, type TestServer } from "../support/test-server.js";
import { basic, OAUTH_TEST_ENV, RS_CLIENT, RS_SECRET } from "./oauth-support.js";

let t: TestServer;
let base: string;
beforeAll(async () => {
  t = await startTestServer(OAUTH_TEST_ENV);
  base = await t.listen();
});
afterAll(async () => {
  await t?.close();
});

type Credential = "full" | "narrowed" | "narrowed with account:manage" | "refresh token";
/** What the door did: ended the presenter's session, only the presented token, or nothing. */
type Outcome = "session" | "token" | "nothing";

async function graphql(token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { errors?: { extensions?: { code?: string } }[] },
  };
}

async function oauthRevoke(token: string, hint: "access_token" | "refresh_token") {
  const res = await fetch(`${base}/oauth/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, token_type_hint: hint }),
  });
  return { status: res.status };
}

async function narrow(full: string, scopes: string[]): Promise<string> {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${full}` },
    body: JSON.stringify({
      query: "mutation($s: [String!]!) { narrowToken(scopes: $s, expiresInSeconds: 120) { accessToken } }",
      variables: { s: scopes },
    }),
  });
  return ((await res.json()) as { data: { narrowToken: { accessToken: string } } }).data.narrowToken
    .accessToken;
}

async function alive(token: string): Promise<boolean> {
  const res = await graphql(token, "{ me { id } }");
  return res.status === 200;
}

interface Door {
  readonly name: string;
  readonly credentials: readonly Credential[];
  /** Uses `presented` (of the session `victim`); an admin door acts on another user's session. */
  open(presented: string, victim: AuthPayload): Promise<unknown>;
  readonly admin?: boolean;
}

const doors: Door[] = [
  {
    name: "GraphQL logout",
    credentials: ["full", "narrowed", "narrowed with account:manage"],
    open: (presented) => graphql(presented, "mutation { logout }"),
  },
  {
    name: "GraphQL logoutEverywhere",
    credentials: ["full", "narrowed", "narrowed with account:manage"],
    open: (presented) => graphql(presented, "mutation { logoutEverywhere }"),
  },
  {
    name: "GraphQL revokeSession of the caller's own session",
    credentials: ["full", "narrowed", "narrowed with account:manage"],
    open: (presented, victim) =>
      graphql(presented, "mutation($id: ID!) { revokeSession(id: $id) }", { id: victim.session.id }),
  },
  {
    name: "OAuth revoke with an access token",
    credentials: ["full", "narrowed", "narrowed with account:manage"],
    open: (presented) => oauthRevoke(presented, "access_token"),
  },
  {
    name: "OAuth revoke with a refresh token",
    credentials: ["refresh token"],
    open: (presented) => oauthRevoke(presented, "refresh_token"),
  },
  {
    name: "admin revokeSession of another user's session",
    credentials: ["full", "narrowed", "narrowed with account:manage"],
    admin: true,
    open: (presented, victim) =>
      graphql(presented, "mutation($id: ID!) { revokeSession(id: $id) }", { id: victim.session.id }),
  },
];

/** The rule: ending a session needs `account:manage` (or the session's refresh token); without it a
 * token may give up only itself, and only where the door revokes tokens (RFC 7009). */
const RULE: Record<Credential, { endsSession: Outcome; revokesToken: Outcome }> = {
  full: { endsSession: "session", revokesToken: "session" },
  narrowed: { endsSession: "nothing", revokesToken: "token" },
  "narrowed with account:manage": { endsSession: "session", revokesToken: "session" },
  "refresh token": { endsSession: "session", revokesToken: "session" },
};
const expected = (door: Door, credential: Credential): Outcome =>
  door.name.startsWith("OAuth") ? RULE[credential].revokesToken : RULE[credential].endsSession;

const cases = doors.flatMap((door) =>
  door.credentials.map((credential) => ({ door, credential, outcome: expected(door, credential) })),
);

describe("every door that ends a session follows one rule", () => {
  it.each(cases)(
    "$door.name with a $credential token: ends $outcome",
    async ({ door, credential, outcome }) => {
      const victim = await registerUser(t);
      const actor = door.admin ? await registerUser(t, { role: "admin" }) : victim;
      const presented =
        credential === "refresh token"
          ? actor.refreshToken!
          : credential === "full"
            ? actor.accessToken
            : await narrow(
                actor.accessToken,
                credential === "narrowed"
                  ? ["sessions:read", ...(door.admin ? ["sessions:admin"] : [])]
                  : ["sessions:read", "account:manage", ...(door.admin ? ["sessions:admin"] : [])],
              );

      await door.open(presented, victim);

      const sessionEnded = !(await alive(victim.accessToken));
      const presentedDead = credential === "refresh token" ? sessionEnded : !(await alive(presented));
      const seen: Outcome = sessionEnded ? "session" : presentedDead ? "token" : "nothing";
      expect(seen).toBe(outcome);
    },
  );
});

describe("a token revoked alone (by jti)", () => {
  it("is kept until its exp plus the clock tolerance, listed for polling services, and reloaded on restart", async () => {
    const owner = await registerUser(t);
    const narrowed = await narrow(owner.accessToken, ["sessions:read"]);
    await oauthRevoke(narrowed, "access_token");
    const { jti, exp } = decodeJwt(narrowed) as { jti: string; exp: number };

    const listed = await fetch(`${base}/oauth/revoked-sessions`, {
      headers: { authorization: basic(RS_CLIENT, RS_SECRET) },
    });
    const body = (await listed.json()) as { revoked: { sid: string; tokens_expire_by: number }[] };
    expect(body.revoked).toContainEqual({
      sid: `jti:${jti}`,
      tokens_expire_by: exp + t.config.tokens.clockToleranceSeconds,
    });

    // A new instance on the same database learns it from the record, without the bus.
    const other = await startTestServer(OAUTH_TEST_ENV, { clock: t.clock, database: t.database as never });
    try {
      const refused = await other.gql("{ me { id } }", { token: narrowed });
      expect(refused.status).toBe(401);
      expect((await other.gql("{ me { id } }", { token: owner.accessToken })).status).toBe(200);
    } finally {
      await other.server.close();
    }
  });
});
