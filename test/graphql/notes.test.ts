import { describe, expect, it } from "vitest";
import { notesOf } from "../support/demo-modules.js";
import { countNotes } from "../support/notes-table.js";
import { errorOf, registerUser, useTestServer } from "../support/test-server.js";

const t = useTestServer();

const CREATE = `mutation($i: CreateNoteInput!) { createNote(input: $i) { id title body owner { id } } }`;

describe("notes", () => {
  it("creates, edits and deletes the caller's own notes", async () => {
    const alice = await registerUser(t);
    const created = await t.gql<{ createNote: { id: string; owner: { id: string } } }>(CREATE, {
      token: alice.accessToken,
      variables: { i: { title: " Groceries ", body: "milk" } },
    });
    const note = created.body.data!.createNote;
    expect(note).toMatchObject({ title: "Groceries", body: "milk", owner: { id: alice.user.id } });
    const edited = await t.gql(
      `mutation($id: ID!) { updateNote(id: $id, input: { body: "oat milk" }) { body title } }`,
      {
        token: alice.accessToken,
        variables: { id: note.id },
      },
    );
    expect(edited.body.data).toEqual({ updateNote: { body: "oat milk", title: "Groceries" } });
    const deleted = await t.gql(`mutation($id: ID!) { deleteNote(id: $id) }`, {
      token: alice.accessToken,
      variables: { id: note.id },
    });
    expect(deleted.body.data).toEqual({ deleteNote: true });
  });

  it("does not let another user edit or delete a note, and leaves it intact", async () => {
    const alice = await registerUser(t);
    const mallory = await registerUser(t);
    const { body } = await t.gql<{ createNote: { id: string } }>(CREATE, {
      token: alice.accessToken,
      variables: { i: { title: "Mine", body: "secret" } },
    });
    const id = body.data!.createNote.id;
    const edit = await t.gql(`mutation($id: ID!) { updateNote(id: $id, input: { body: "pwned" }) { id } }`, {
      token: mallory.accessToken,
      variables: { id },
    });
    expect(errorOf(edit)?.code).toBe("NOT_FOUND");
    const del = await t.gql(`mutation($id: ID!) { deleteNote(id: $id) }`, {
      token: mallory.accessToken,
      variables: { id },
    });
    expect(errorOf(del)?.code).toBe("NOT_FOUND");
    const row = await notesOf(t.server).findById(id);
    expect(row?.body).toBe("secret");
  });

  it("refuses an anonymous write", async () => {
    const res = await t.gql(CREATE, { variables: { i: { title: "x", body: "y" } } });
    expect(errorOf(res)?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses an empty title and an oversized body without writing", async () => {
    const alice = await registerUser(t);
    const before = await countNotes(t.database);
    expect(
      errorOf(await t.gql(CREATE, { token: alice.accessToken, variables: { i: { title: "  ", body: "" } } })),
    ).toEqual({
      code: "BAD_USER_INPUT",
      reason: "invalid_title",
    });
    expect(
      errorOf(
        await t.gql(CREATE, {
          token: alice.accessToken,
          variables: { i: { title: "t", body: "x".repeat(20_001) } },
        }),
      )?.reason,
    ).toBe("invalid_body");
    expect(await countNotes(t.database)).toBe(before);
  });
});

describe("cursor pagination", () => {
  it("pages through users without gaps or repeats", async () => {
    let reader = await registerUser(t);
    for (let i = 0; i < 6; i++) reader = await registerUser(t);
    const total = await t.database.prisma.user.count();
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: {
        body: {
          data?: {
            users: {
              edges: { node: { id: string } }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          } | null;
        };
      } = await t.gql(
        `query($after: String) { users(first: 3, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { variables: { after }, token: reader.accessToken },
      );
      const page = res.body.data!.users;
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it("caps first at 100 and refuses a forged cursor", async () => {
    const { accessToken: token } = await registerUser(t);
    expect(errorOf(await t.gql("{ users(first: 101) { edges { cursor } } }", { token }))).toEqual({
      code: "BAD_USER_INPUT",
      reason: "invalid_page_size",
    });
    expect(errorOf(await t.gql("{ users(first: 0) { edges { cursor } } }", { token }))?.reason).toBe(
      "invalid_page_size",
    );
    expect(
      errorOf(await t.gql(`{ users(after: "Jyk7IERST1A=") { edges { cursor } } }`, { token }))?.reason,
    ).toBe("invalid_cursor");
  });
});
