// The enforced schema runs decided fields through a synchronous fast path; the naive one through
// graphql-shield's own middleware. Same rules, so every answer must be the same, denials included.
import DataLoader from "dataloader";
import { type ExecutionResult, execute, type GraphQLSchema, parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "../../src/auth/viewer.js";
import { grantedScopes } from "../../src/authz/scopes.js";
import type { GraphQLContext } from "../../src/graphql/context.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { type SeededUser, seedNote, seedUser } from "../support/as-viewer.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let alice: SeededUser;
let bob: SeededUser;
let aliceNote: string;

beforeAll(async () => {
  t = await startTestServer();
  alice = await seedUser(t);
  bob = await seedUser(t);
  aliceNote = (await seedNote(t, alice, { body: "alice body" })).id;
  await seedNote(t, bob, { body: "bob body" });
});
afterAll(async () => {
  await t.close();
});

function viewerOf(user: SeededUser, scopes: readonly string[]): Viewer {
  return {
    userId: user.id,
    sessionId: user.sessionId,
    scopes: new Set(scopes),
    jkt: null,
    expiresAt: 0,
    tokenId: "j",
    authentication: null,
  };
}

function context(viewer: Viewer | null): GraphQLContext {
  const { services } = t.server;
  return {
    viewer,
    proofJkt: null,
    client: { ip: null, userAgent: null },
    services,
    refreshCookie: { read: () => null, set: () => {}, clear: () => {} },
    loaders: { user: new DataLoader((ids: readonly string[]) => services.users.findManyByIds(ids)) },
    stepUp: { maxAgeSeconds: 300, clock: t.clock },
  };
}

async function run(schema: GraphQLSchema, query: string, viewer: Viewer | null) {
  const result = (await execute({
    schema,
    document: parse(query),
    contextValue: context(viewer),
    variableValues: { note: aliceNote, user: alice.id },
  })) as ExecutionResult;
  return {
    data: result.data,
    errors: (result.errors ?? []).map((e) => ({
      path: e.path,
      error: e.originalError && "code" in e.originalError ? { ...e.originalError } : e.message,
    })),
  };
}

const QUERIES = [
  "query($note: ID!) { note(id: $note) { id title body owner { id email } } }",
  "{ notes(first: 10) { edges { node { title body owner { email } } } } }",
  "query($user: ID!) { user(id: $user) { email notes(first: 5) { edges { node { body } } } } }",
  "{ users(first: 10) { edges { node { id email } } } me { id email } }",
  "{ sessions { id current } }",
];

describe("fast path and graphql-shield agree", () => {
  const enforced = buildSchema();
  const naive = buildSchema({ authorization: "naive" });
  const viewers: [string, () => Viewer | null][] = [
    ["anonymous", () => null],
    ["no scope", () => viewerOf(bob, [])],
    ["owner", () => viewerOf(alice, grantedScopes("user"))],
    ["non-owner", () => viewerOf(bob, grantedScopes("user"))],
    ["owner with notes:write only", () => viewerOf(alice, ["notes:write"])],
    ["admin scopes", () => viewerOf(bob, grantedScopes("admin"))],
  ];

  it.each(viewers)("for %s, on every query", async (_name, viewer) => {
    for (const query of QUERIES) {
      const fast = await run(enforced, query, viewer());
      const reference = await run(naive, query, viewer());
      expect(fast, query).toEqual(reference);
    }
  });

  it("is not vacuous: the answers include both values and denials", async () => {
    const owner = await run(enforced, QUERIES[0]!, viewerOf(alice, grantedScopes("user")));
    expect(JSON.stringify(owner.data)).toContain("alice body");
    const stranger = await run(enforced, QUERIES[0]!, viewerOf(bob, grantedScopes("user")));
    expect(stranger.errors.map((e) => e.path)).toEqual([
      ["note", "body"],
      ["note", "owner", "email"],
    ]);
  });
});
