// The permission matrix: for every field of the schema, what each kind of caller gets.
// One cell = one fresh world (alice owns a note; bob and an admin exist) and one request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scope } from "../../src/authz/field-rule.js";
import { schemaFields } from "../../src/authz/shield.js";
import { buildSchema } from "../../src/graphql/schema.js";
import type { NoteModel } from "../../src/modules/notes/note-model.js";
import { until } from "../subscriptions/support/live-harness.js";
import { connect } from "../subscriptions/support/ws-client.js";
import {
  type AuthzOutcome,
  authzOutcome,
  type SeededUser,
  seedNote,
  seedUser,
  tokenFor,
} from "../support/as-viewer.js";
import { DEMO_MODULES, demoCatalogue as defaultScopeCatalogue, notesOf } from "../support/demo-modules.js";
import {
  type GraphQLResponse,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/test-server.js";

const ACTORS = ["anonymous", "noScope", "withScope", "owner", "nonOwner", "admin"] as const;
type Actor = (typeof ACTORS)[number];

interface World {
  alice: SeededUser;
  note: NoteModel;
}

interface Probe {
  query: string;
  variables?: Record<string, unknown>;
}

interface Row {
  field: string;
  /** The scopes of `withScope`: bob (not the owner) holding just what the field names. */
  scopes?: Scope[];
  probe: (w: World) => Probe;
  expected: Record<Actor, AuthzOutcome>;
  /** A subscription: run over WebSocket, judged on the first event (alice writes her note). */
  live?: true;
}

/** "U F + + F +" in ACTORS order: U unauthenticated, F forbidden, N not found, + allowed. */
function outcomes(spec: string): Record<Actor, AuthzOutcome> {
  const codes = spec.split(" ");
  if (codes.length !== ACTORS.length) throw new Error(`bad outcome spec ${spec}`);
  const meaning: Record<string, AuthzOutcome> = {
    U: "UNAUTHENTICATED",
    F: "FORBIDDEN",
    N: "NOT_FOUND",
    "+": "ok",
  };
  return Object.fromEntries(ACTORS.map((a, i) => [a, meaning[codes[i]!]!])) as Record<Actor, AuthzOutcome>;
}

const ALL = outcomes("+ + + + + +");
const SIGNED_IN = outcomes("U + + + + +");
const SCOPED = outcomes("U F + + + +");
const OWNED = outcomes("U F + + F +");

const q = {
  root: (query: string) => () => ({ query }),
  user: (sel: string) => (w: World) => ({
    query: `query($id: ID!) { user(id: $id) { ${sel} } }`,
    variables: { id: w.alice.id },
  }),
  users: (sel: string) => () => ({ query: `{ users(first: 2) { ${sel} } }` }),
  note: (sel: string) => (w: World) => ({
    query: `query($id: ID!) { note(id: $id) { ${sel} } }`,
    variables: { id: w.note.id },
  }),
  notes: (sel: string) => () => ({ query: `{ notes(first: 2) { ${sel} } }` }),
  sessions: (sel: string) => () => ({ query: `{ sessions { ${sel} } }` }),
  passkeys: (sel: string) => () => ({ query: `{ passkeys { ${sel} } }` }),
  refresh: (sel: string) => (w: World) => ({
    query: `mutation($t: String) { refresh(refreshToken: $t) { ${sel} } }`,
    variables: { t: w.alice.refreshToken },
  }),
  narrow: (sel: string) => () => ({ query: `mutation { narrowToken(scopes: []) { ${sel} } }` }),
  live: (sel: string) => () => ({ query: `subscription { noteEvents { ${sel} } }` }),
};

let registered = 0;

const ROWS: Row[] = [
  { field: "Query.me", probe: q.root("{ me { id } }"), expected: ALL },
  { field: "Query.user", scopes: ["users:read"], probe: q.user("id"), expected: SCOPED },
  {
    field: "Query.users",
    scopes: ["users:read"],
    probe: q.users("pageInfo { hasNextPage }"),
    expected: SCOPED,
  },
  { field: "Query.note", scopes: ["notes:read"], probe: q.note("id"), expected: SCOPED },
  {
    field: "Query.notes",
    scopes: ["notes:read"],
    probe: q.notes("pageInfo { hasNextPage }"),
    expected: SCOPED,
  },
  { field: "Query.sessions", scopes: ["sessions:read"], probe: q.sessions("id"), expected: SCOPED },
  { field: "Query.passkeys", scopes: ["account:manage"], probe: q.passkeys("id"), expected: SCOPED },
  {
    field: "Mutation.register",
    probe: () => {
      registered += 1;
      return {
        query: "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        variables: {
          i: { email: `matrix${registered}@example.com`, password: TEST_PASSWORD, displayName: "M" },
        },
      };
    },
    expected: ALL,
  },
  {
    field: "Mutation.login",
    probe: (w) => ({
      query: "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
      variables: { i: { email: w.alice.email, password: TEST_PASSWORD } },
    }),
    expected: ALL,
  },
  { field: "Mutation.refresh", probe: q.refresh("accessToken"), expected: ALL },
  {
    field: "Mutation.logout",
    scopes: ["account:manage"],
    probe: q.root("mutation { logout }"),
    expected: SCOPED,
  },
  {
    field: "Mutation.logoutEverywhere",
    scopes: ["account:manage"],
    probe: q.root("mutation { logoutEverywhere }"),
    expected: SCOPED,
  },
  {
    // Ownership of a session is SessionService's check: a stranger's session is NOT_FOUND.
    field: "Mutation.revokeSession",
    scopes: ["account:manage"],
    probe: (w) => ({
      query: "mutation($id: ID!) { revokeSession(id: $id) }",
      variables: { id: w.alice.sessionId },
    }),
    expected: outcomes("U F N + N +"),
  },
  {
    field: "Mutation.changePassword",
    scopes: ["account:manage"],
    probe: q.root(
      `mutation { changePassword(currentPassword: "${TEST_PASSWORD}", newPassword: "another long passphrase") }`,
    ),
    expected: SCOPED,
  },
  {
    field: "Mutation.reauthenticate",
    scopes: ["account:manage"],
    probe: q.root(`mutation { reauthenticate(password: "${TEST_PASSWORD}") { accessToken } }`),
    expected: SCOPED,
  },
  {
    field: "Mutation.passkeyRegistrationOptions",
    scopes: ["account:manage"],
    probe: q.root("mutation { passkeyRegistrationOptions }"),
    expected: SCOPED,
  },
  {
    // A made-up response passes authorization and is refused as bad input.
    field: "Mutation.addPasskey",
    scopes: ["account:manage"],
    probe: () => ({ query: "mutation($r: JSON!) { addPasskey(response: $r) { id } }", variables: { r: {} } }),
    expected: SCOPED,
  },
  {
    field: "Mutation.removePasskey",
    scopes: ["account:manage"],
    probe: q.root('mutation { removePasskey(id: "no-such-passkey") }'),
    expected: outcomes("U F N N N N"),
  },
  {
    field: "Mutation.passkeySignInOptions",
    probe: q.root("mutation { passkeySignInOptions }"),
    expected: ALL,
  },
  {
    field: "Mutation.passkeySignIn",
    probe: () => ({
      query: "mutation($i: PasskeySignInInput!) { passkeySignIn(input: $i) { accessToken } }",
      variables: { i: { response: {} } },
    }),
    expected: ALL,
  },
  { field: "Mutation.narrowToken", probe: q.narrow("scopes"), expected: SIGNED_IN },
  {
    field: "Mutation.createNote",
    scopes: ["notes:write"],
    probe: q.root('mutation { createNote(input: { title: "t", body: "b" }) { id } }'),
    expected: SCOPED,
  },
  {
    // NoteService writes only the caller's own notes; no scope edits someone else's.
    field: "Mutation.updateNote",
    scopes: ["notes:write"],
    probe: (w) => ({
      query: 'mutation($id: ID!) { updateNote(id: $id, input: { title: "x" }) { id } }',
      variables: { id: w.note.id },
    }),
    expected: outcomes("U F N + N N"),
  },
  {
    field: "Mutation.deleteNote",
    scopes: ["notes:write"],
    probe: (w) => ({ query: "mutation($id: ID!) { deleteNote(id: $id) }", variables: { id: w.note.id } }),
    expected: outcomes("U F N + N N"),
  },
  {
    field: "Mutation.rotateSigningKey",
    scopes: ["keys:admin"],
    probe: q.root("mutation { rotateSigningKey { kid } }"),
    expected: outcomes("U F + F F +"),
  },
  ...(["kid", "activatesAt"] as const).map(
    (f): Row => ({
      field: `SigningKeyRotation.${f}`,
      scopes: ["keys:admin"],
      probe: q.root(`mutation { rotateSigningKey { ${f} } }`),
      expected: outcomes("U F + F F +"),
    }),
  ),
  ...(["id", "displayName", "role", "createdAt"] as const).map(
    (f): Row => ({ field: `User.${f}`, scopes: ["users:read"], probe: q.user(f), expected: SCOPED }),
  ),
  {
    field: "User.email",
    scopes: ["users:read", "users:read:email"],
    probe: q.user("email"),
    expected: OWNED,
  },
  {
    field: "User.notes",
    scopes: ["users:read", "notes:read"],
    probe: q.user("notes(first: 1) { pageInfo { hasNextPage } }"),
    expected: SCOPED,
  },
  { field: "UserEdge.cursor", scopes: ["users:read"], probe: q.users("edges { cursor }"), expected: SCOPED },
  {
    field: "UserEdge.node",
    scopes: ["users:read"],
    probe: q.users("edges { node { id } }"),
    expected: SCOPED,
  },
  {
    field: "UserConnection.edges",
    scopes: ["users:read"],
    probe: q.users("edges { cursor }"),
    expected: SCOPED,
  },
  {
    field: "UserConnection.pageInfo",
    scopes: ["users:read"],
    probe: q.users("pageInfo { hasNextPage }"),
    expected: SCOPED,
  },
  { field: "Note.id", scopes: ["notes:read"], probe: q.note("id"), expected: SCOPED },
  { field: "Note.title", scopes: ["notes:read"], probe: q.note("title"), expected: SCOPED },
  { field: "Note.createdAt", scopes: ["notes:read"], probe: q.note("createdAt"), expected: SCOPED },
  { field: "Note.owner", scopes: ["notes:read"], probe: q.note("owner { id }"), expected: SCOPED },
  { field: "Note.body", scopes: ["notes:read:any"], probe: q.note("body"), expected: OWNED },
  { field: "NoteEdge.cursor", scopes: ["notes:read"], probe: q.notes("edges { cursor }"), expected: SCOPED },
  {
    field: "NoteEdge.node",
    scopes: ["notes:read"],
    probe: q.notes("edges { node { id } }"),
    expected: SCOPED,
  },
  {
    field: "NoteConnection.edges",
    scopes: ["notes:read"],
    probe: q.notes("edges { cursor }"),
    expected: SCOPED,
  },
  {
    field: "NoteConnection.pageInfo",
    scopes: ["notes:read"],
    probe: q.notes("pageInfo { endCursor }"),
    expected: SCOPED,
  },
  {
    field: "PageInfo.hasNextPage",
    scopes: ["users:read"],
    probe: q.users("pageInfo { hasNextPage }"),
    expected: SCOPED,
  },
  {
    field: "PageInfo.endCursor",
    scopes: ["users:read"],
    probe: q.users("pageInfo { endCursor }"),
    expected: SCOPED,
  },
  ...(
    ["id", "createdAt", "lastUsedAt", "expiresAt", "userAgent", "ip", "current", "boundToKey"] as const
  ).map(
    (f): Row => ({
      field: `Session.${f}`,
      scopes: ["sessions:read"],
      probe: q.sessions(f),
      expected: SCOPED,
    }),
  ),
  ...(["accessToken", "tokenType", "expiresAt", "scopes", "refreshToken"] as const).map(
    (f): Row => ({ field: `AuthPayload.${f}`, probe: q.refresh(f), expected: ALL }),
  ),
  { field: "AuthPayload.session", probe: q.refresh("session { id }"), expected: ALL },
  { field: "AuthPayload.user", probe: q.refresh("user { id email }"), expected: ALL },
  ...(["accessToken", "tokenType", "expiresAt", "scopes"] as const).map(
    (f): Row => ({ field: `NarrowedToken.${f}`, probe: q.narrow(f), expected: SIGNED_IN }),
  ),
  {
    field: "Subscription.noteEvents",
    scopes: ["notes:read"],
    probe: q.live("kind"),
    expected: SCOPED,
    live: true,
  },
  ...(["kind", "noteId", "note { id }"] as const).map(
    (f): Row => ({
      field: `NoteEvent.${f.split(" ")[0]}`,
      scopes: ["notes:read"],
      probe: q.live(f),
      expected: SCOPED,
      live: true,
    }),
  ),
  ...(["id", "name", "createdAt", "lastUsedAt", "deviceType", "backedUp"] as const).map(
    (f): Row => ({
      field: `Passkey.${f}`,
      scopes: ["account:manage"],
      probe: q.passkeys(f),
      expected: SCOPED,
    }),
  ),
];

let t: TestServer;
let wsBase: string;

beforeAll(async () => {
  t = await startTestServer({ RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000" });
  wsBase = await t.listen();
});

/** A subscription cell: the first message for the stream, after alice writes a note if it runs. */
async function liveCell(query: string, token: string | undefined, world: World): Promise<GraphQLResponse> {
  const client = await connect(wsBase);
  try {
    await client.init(token ? { authorization: `Bearer ${token}` } : {});
    const before = t.server.subscriptions.streams;
    client.subscribe("1", query);
    await until(() => t.server.subscriptions.streams > before || client.messages.some((m) => m.id === "1"));
    if (!client.messages.some((m) => m.id === "1"))
      await notesOf(t.server).update(world.alice.id, world.note.id, { title: "changed" });
    const first = await client.next((m) => m.id === "1" && m.type === "next");
    return { status: 200, headers: {}, body: first.payload as GraphQLResponse["body"], setCookies: {} };
  } finally {
    client.close();
  }
}
afterAll(async () => {
  await t.close();
});

/** The token of one cell's caller; bob and the admin are seeded only when a cell needs them. */
async function tokenOf(actor: Actor, row: Row, world: World): Promise<string | undefined> {
  switch (actor) {
    case "anonymous":
      return undefined;
    case "noScope":
      return tokenFor(t, await seedUser(t), []);
    case "withScope":
      return tokenFor(t, await seedUser(t), row.scopes ?? []);
    case "owner":
      return tokenFor(t, world.alice, defaultScopeCatalogue.grantedAtLogin("user"));
    case "nonOwner":
      return tokenFor(t, await seedUser(t), defaultScopeCatalogue.grantedAtLogin("user"));
    case "admin":
      return tokenFor(t, await seedUser(t, { role: "admin" }), defaultScopeCatalogue.grantedAtLogin("admin"));
  }
}

describe("permission matrix", () => {
  it("has a row for every field of the schema", () => {
    expect(ROWS.map((r) => r.field).sort()).toEqual(schemaFields(buildSchema({ modules: DEMO_MODULES })));
  });

  describe.each(ROWS)("$field", (row) => {
    it.each(ACTORS)(`%s`, async (actor) => {
      const alice = await seedUser(t);
      const world: World = { alice, note: await seedNote(t, alice) };
      const token = await tokenOf(actor, row, world);
      const { query, variables } = row.probe(world);
      const res = row.live
        ? await liveCell(query, token, world)
        : await t.gql(query, { ...(variables ? { variables } : {}), ...(token ? { token } : {}) });
      // Field-level denials never turn the answer into a 401/403: the rest of it still resolves.
      expect(res.status).toBe(200);
      expect(authzOutcome(res), JSON.stringify(res.body.errors)).toBe(row.expected[actor]);
    });
  });
});
