// What a denial looks like: the code, the reason, the missing scopes, HTTP 200 and the rest of the
// answer intact. The rule kinds the demo map does not use yet (AND-groups, admin only) are checked on
// a schema extended for the test.
import { makeExecutableSchema } from "@graphql-tools/schema";
import { type ExecutionResult, graphql } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "../../src/auth/viewer.js";
import { adminOnly, type FieldRule, hasScope } from "../../src/authz/field-rule.js";
import { permissions } from "../../src/authz/permissions.js";
import { applyPermissions } from "../../src/authz/shield.js";
import { resolvers } from "../../src/graphql/resolvers/index.js";
import { loadTypeDefs } from "../../src/graphql/schema.js";
import { gqlAs, type SeededUser, seedNote, seedUser } from "../support/as-viewer.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import { useTestServer } from "../support/test-server.js";
import { testViewer } from "../support/test-viewer.js";

const t = useTestServer();
let alice: SeededUser;
let noteId: string;

beforeAll(async () => {
  alice = await seedUser(t);
  noteId = (await seedNote(t, alice)).id;
});

describe("denials over HTTP", () => {
  it("answers an anonymous caller UNAUTHENTICATED authentication_required, with HTTP 200 and partial data", async () => {
    const res = await gqlAs(t, "anonymous", "query($id: ID!) { me { id } note(id: $id) { title } }", {
      id: noteId,
    });
    expect(res.status).toBe(200);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.body.data?.note).toBeNull();
    expect(res.body.data).toHaveProperty("me", null);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        path: ["note"],
        extensions: { code: "UNAUTHENTICATED", reason: "authentication_required" },
      }),
    ]);
  });

  it("answers a caller without the scope FORBIDDEN with the scopes it lacks, and resolves the rest", async () => {
    const res = await gqlAs(
      t,
      { scopes: ["sessions:read"] },
      "query($id: ID!) { me { id } note(id: $id) { title } sessions { id } }",
      {
        id: noteId,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.data?.me).toEqual({ id: expect.any(String) });
    expect(res.body.data?.sessions).toHaveLength(1);
    expect(res.body.data?.note).toBeNull();
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        path: ["note"],
        extensions: {
          code: "FORBIDDEN",
          reason: "insufficient_scope",
          requiredScopes: [["notes:read"], ["notes:read:any"]],
        },
      }),
    ]);
  });

  it("reports one error per denied field, each at its own path", async () => {
    const other = await seedUser(t);
    const res = await gqlAs(
      t,
      { scopes: defaultScopeCatalogue.grantedAtLogin("user") },
      "query($a: ID!, $b: ID!) { a: user(id: $a) { email } b: user(id: $b) { email } }",
      {
        a: alice.id,
        b: other.id,
      },
    );
    expect(res.body.errors?.map((e) => e.path)).toEqual([
      ["a", "email"],
      ["b", "email"],
    ]);
    expect(res.body.errors?.[0]?.extensions?.requiredScopes).toEqual([["users:read:email"]]);
  });
});

describe("rule kinds on an extended schema", () => {
  const sdl = `
    extend type Query {
      both: String
      adminThing: String
    }`;
  const extraResolvers = {
    Query: { both: () => "both-value", adminThing: () => "admin-value" },
  };
  const extended = makeExecutableSchema({
    typeDefs: `${loadTypeDefs()}\n${sdl}`,
    resolvers: [resolvers as never, extraResolvers],
  });
  const map = {
    ...permissions,
    Query: {
      ...permissions.Query,
      both: hasScope(["notes:read", "notes:write"], ["notes:read:any"]),
      adminThing: adminOnly("keys:admin"),
    },
  } as unknown as Record<string, Record<string, FieldRule<unknown>>>;
  const schema = applyPermissions(extended, { map, catalogue: defaultScopeCatalogue });

  const viewer = (scopes: string[]) => testViewer(scopes);
  async function run(source: string, v: Viewer | null): Promise<ExecutionResult> {
    return graphql({ schema, source, contextValue: { viewer: v } });
  }
  const originalOf = (res: ExecutionResult) => res.errors?.[0]?.originalError;

  it("passes an AND-group only when every scope of it is held", async () => {
    expect((await run("{ both }", viewer(["notes:read", "notes:write"]))).data).toEqual({
      both: "both-value",
    });
    expect((await run("{ both }", viewer(["notes:read:any"]))).data).toEqual({ both: "both-value" });
    const partial = await run("{ both }", viewer(["notes:read"]));
    expect(partial.data).toEqual({ both: null });
    // Each alternative lists only what the caller still lacks.
    expect(originalOf(partial)).toMatchObject({
      code: "FORBIDDEN",
      reason: "insufficient_scope",
      requiredScopes: [["notes:write"], ["notes:read:any"]],
    });
  });

  it("lets an admin-only field through only with its admin scope", async () => {
    expect((await run("{ adminThing }", viewer(defaultScopeCatalogue.grantedAtLogin("admin")))).data).toEqual(
      {
        adminThing: "admin-value",
      },
    );
    const user = await run("{ adminThing }", viewer(defaultScopeCatalogue.grantedAtLogin("user")));
    expect(user.data).toEqual({ adminThing: null });
    expect(originalOf(user)).toMatchObject({ code: "FORBIDDEN", requiredScopes: [["keys:admin"]] });
    expect(originalOf(await run("{ adminThing }", null))).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "authentication_required",
    });
  });

  it("evaluates a request-invariant rule once per request, however many fields use it", async () => {
    const scopes = new Set(["notes:read", "notes:write"]);
    let reads = 0;
    const counting = new Proxy(scopes, {
      get(target, prop, receiver) {
        if (prop === "has") reads += 1;
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const v = { ...viewer([]), scopes: counting };
    const res = await run("{ a: both b: both c: both d: both }", v);
    expect(res.errors).toBeUndefined();
    // One evaluation of [notes:read + notes:write] = two lookups, not eight.
    expect(reads).toBe(2);
  });
});
