// A FORBIDDEN field must not leak its value by any route a query language offers: aliases,
// fragments, inline fragments, __typename, directives, other paths to the same object, or a
// decision cached from another parent or another request.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { NoteModel } from "../../src/modules/notes/note-model.js";
import { asViewer, type SeededUser, seedNote, seedUser, tokenFor } from "../support/as-viewer.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import { type GraphQLResponse, useTestServer } from "../support/test-server.js";

const t = useTestServer();
let alice: SeededUser;
let bob: SeededUser;
let secretNote: NoteModel;
let bobsNote: NoteModel;
const secret = `alice-secret-${randomBytes(8).toString("hex")}`;

beforeAll(async () => {
  alice = await seedUser(t, { email: `alice-${randomBytes(4).toString("hex")}@example.com` });
  bob = await seedUser(t);
  secretNote = await seedNote(t, alice, { title: "Shared title", body: secret });
  bobsNote = await seedNote(t, bob, { title: "Bob's", body: "bob's own body" });
});

function leaks(res: GraphQLResponse): boolean {
  const text = JSON.stringify(res.body);
  return text.includes(secret) || text.includes(alice.email);
}

function denials(res: GraphQLResponse): unknown[] {
  return (res.body.errors ?? []).map((e) => ({ code: e.extensions?.code, path: e.path }));
}

describe("a forbidden value does not leak", () => {
  const attempts: [string, string][] = [
    ["two aliases of one field", "query($id: ID!) { note(id: $id) { a: body b: body title } }"],
    ["a named fragment", "query($id: ID!) { note(id: $id) { ...N } } fragment N on Note { body title }"],
    [
      "nested named fragments",
      "query($id: ID!) { note(id: $id) { ...A } } fragment A on Note { ...B } fragment B on Note { body }",
    ],
    ["an inline fragment", "query($id: ID!) { note(id: $id) { ... on Note { body } title } }"],
    ["an inline fragment without a type", "query($id: ID!) { note(id: $id) { ... { body } } }"],
    [
      "__typename beside it",
      "query($id: ID!) { n: note(id: $id) { t: __typename ... on Note { b: body } } }",
    ],
    ["an @include directive", "query($id: ID!) { note(id: $id) { body @include(if: true) } }"],
    ["the notes list", "{ notes(first: 100) { edges { node { title body } } } }"],
    [
      "the owner's own notes",
      "query($u: ID!) { user(id: $u) { notes(first: 100) { edges { node { body } } } } }",
    ],
    [
      "the note's owner and back",
      "query($id: ID!) { note(id: $id) { owner { email notes(first: 5) { edges { node { body } } } } } }",
    ],
    [
      "the users list",
      "{ users(first: 100) { edges { node { id email x: email ... on User { email } } } } }",
    ],
    ["user by id with a fragment", "query($u: ID!) { user(id: $u) { ...E } } fragment E on User { email }"],
  ];

  it.each(attempts)("through %s", async (_name, query) => {
    const viewer = await asViewer(t, { user: bob, scopes: defaultScopeCatalogue.grantedAtLogin("user") });
    const res = await viewer.gql(query, { id: secretNote.id, u: alice.id });
    expect(res.status).toBe(200);
    expect(leaks(res)).toBe(false);
    expect(res.body.errors?.length ?? 0).toBeGreaterThan(0);
    for (const e of res.body.errors ?? []) {
      expect(e.extensions).toMatchObject({ code: "FORBIDDEN", reason: "insufficient_scope" });
    }
    // The rest of the answer is still there.
    expect(res.body.data).not.toBeNull();
  });

  it("decides per parent: bob's body shows, alice's does not, whichever comes first", async () => {
    const viewer = await asViewer(t, { user: bob, scopes: defaultScopeCatalogue.grantedAtLogin("user") });
    for (const query of [
      "query($a: ID!, $b: ID!) { theirs: note(id: $a) { body } mine: note(id: $b) { body } }",
      "query($a: ID!, $b: ID!) { mine: note(id: $b) { body } theirs: note(id: $a) { body } }",
    ]) {
      const res = await viewer.gql<{ mine: { body: string | null }; theirs: { body: string | null } }>(
        query,
        {
          a: secretNote.id,
          b: bobsNote.id,
        },
      );
      expect(res.body.data?.mine.body).toBe("bob's own body");
      expect(res.body.data?.theirs.body).toBeNull();
      expect(denials(res)).toEqual([{ code: "FORBIDDEN", path: ["theirs", "body"] }]);
      expect(leaks(res)).toBe(false);
    }
  });

  it("does not carry a decision over from another request", async () => {
    const owner = await asViewer(t, { user: alice, scopes: defaultScopeCatalogue.grantedAtLogin("user") });
    const mine = await owner.gql<{ note: { body: string } }>("query($id: ID!) { note(id: $id) { body } }", {
      id: secretNote.id,
    });
    expect(mine.body.data?.note.body).toBe(secret);
    const other = await asViewer(t, { user: bob, scopes: defaultScopeCatalogue.grantedAtLogin("user") });
    const res = await other.gql("query($id: ID!) { note(id: $id) { body } }", { id: secretNote.id });
    expect(leaks(res)).toBe(false);
  });

  it("answers the same for a note that exists and one that does not, without the scope", async () => {
    const viewer = await asViewer(t, { user: bob, scopes: [] });
    const query = "query($id: ID!) { note(id: $id) { __typename id } }";
    const real = await viewer.gql(query, { id: secretNote.id });
    const missing = await viewer.gql(query, { id: "00000000-nope" });
    expect(real.body).toEqual(missing.body);
    expect(real.body.data).toEqual({ note: null });
  });

  it("does not let a token narrowed to notes:write read its owner's bodies back through a write", async () => {
    const writer = await asViewer(t, { user: alice, scopes: ["notes:write"] });
    const update = await writer.gql(
      `mutation($id: ID!) { updateNote(id: $id, input: { title: "renamed" }) { id body } }`,
      {
        id: secretNote.id,
      },
    );
    expect(leaks(update)).toBe(false);
    expect(update.body.errors?.[0]?.extensions).toMatchObject({
      code: "FORBIDDEN",
      requiredScopes: [["notes:read"], ["notes:read:any"]],
    });
    const created = await writer.gql<{ createNote: { id: string } }>(
      'mutation { createNote(input: { title: "t", body: "fresh" }) { id body } }',
    );
    expect(created.body.data?.createNote.id).toEqual(expect.any(String));
    expect(created.body.errors?.[0]?.path).toEqual(["createNote", "body"]);
  });

  it("shows a login answer's own email, but not the account's notes to the still anonymous request", async () => {
    const res = await t.gql<{ refresh: { user: { email: string; notes: unknown } | null } }>(
      "mutation($r: String) { refresh(refreshToken: $r) { user { email notes(first: 1) { edges { node { body } } } } } }",
      { variables: { r: alice.refreshToken } },
    );
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.reason])).toEqual([
      [["refresh", "user", "notes"], "authentication_required"],
    ]);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });

  it("treats only the payload's own account as self, not other users reached from the same request", async () => {
    const carol = await seedUser(t);
    await seedNote(t, carol, { body: "carol's" });
    const res = await t.gql("mutation($r: String) { refresh(refreshToken: $r) { user { email } } }", {
      variables: { r: carol.refreshToken },
    });
    expect(JSON.stringify(res.body)).toContain(carol.email);
    // An anonymous request with no payload: nobody is self.
    const anon = await t.gql("query($u: ID!) { user(id: $u) { email } }", { variables: { u: carol.id } });
    expect(JSON.stringify(anon.body)).not.toContain(carol.email);
    expect(anon.body.errors?.[0]?.extensions?.reason).toBe("authentication_required");
  });

  it("an admin token reads every body and email (the matrix's positive control)", async () => {
    const admin = await seedUser(t, { role: "admin" });
    const token = await tokenFor(t, admin, defaultScopeCatalogue.grantedAtLogin("admin"));
    const res = await t.gql("query($id: ID!, $u: ID!) { note(id: $id) { body } user(id: $u) { email } }", {
      token,
      variables: { id: secretNote.id, u: alice.id },
    });
    expect(res.body.errors).toBeUndefined();
    expect(leaks(res)).toBe(true);
  });
});
