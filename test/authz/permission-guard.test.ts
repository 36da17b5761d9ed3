import { makeExecutableSchema } from "@graphql-tools/schema";
import { type GraphQLSchema, graphql, isObjectType } from "graphql";
import { applyMiddleware } from "graphql-middleware";
import { describe, expect, it } from "vitest";
import { adminOnly, type FieldRule, hasScope, parent, publicField } from "../../src/authz/field-rule.js";
import { permissions } from "../../src/authz/permissions.js";
import {
  applyPermissions,
  assertPermissionMap,
  decidedMiddleware,
  isOpen,
  PermissionMapError,
  schemaFields,
} from "../../src/authz/shield.js";
import type { SchemaPermissionMap } from "../../src/graphql/permission-coverage.js";
import { resolvers } from "../../src/graphql/resolvers/index.js";
import { buildSchema, loadTypeDefs } from "../../src/graphql/schema.js";
import { DEMO_MODULES, demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";

type LooseMap = Record<string, Record<string, FieldRule<unknown>>>;

/** The map with the scopes `npm start` knows: the core's and the notes module's. */
const set = (map: LooseMap | typeof permissions) => ({ map, catalogue: defaultScopeCatalogue });

function rawSchema(extraSdl = ""): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: `${loadTypeDefs()}\n${extraSdl}`, resolvers: resolvers as never });
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof PermissionMapError) return error.problems;
    throw error;
  }
  return [];
}

function mapWith(extra: LooseMap): LooseMap {
  const map: LooseMap = { ...(permissions as unknown as LooseMap) };
  for (const [type, fields] of Object.entries(extra)) map[type] = { ...map[type], ...fields };
  return map;
}

describe("every field has an explicit rule", () => {
  it("covers every field of the schema, and nothing else", () => {
    const mapped = Object.entries(permissions).flatMap(([type, fields]) =>
      Object.keys(fields).map((f) => `${type}.${f}`),
    );
    expect(mapped.sort()).toEqual(schemaFields(rawSchema()));
    expect(() => buildSchema({ modules: DEMO_MODULES })).not.toThrow();
  });

  it("refuses to build a schema with a field that has no rule", () => {
    const schema = rawSchema("extend type Query { secret: String }");
    expect(problemsOf(() => applyPermissions(schema, set(permissions)))).toEqual([
      "Query.secret has no rule",
    ]);
    expect(problemsOf(() => applyPermissions(schema, set(permissions), "naive"))).toEqual([
      "Query.secret has no rule",
    ]);
  });

  it("refuses a new object type whose fields have no rules", () => {
    const schema = rawSchema("type Audit { id: ID! what: String } extend type Query { audit: Audit }");
    const problems = problemsOf(() =>
      applyPermissions(schema, set(mapWith({ Query: { audit: adminOnly("keys:admin") } }))),
    );
    expect(problems).toEqual(["Audit.id has no rule", "Audit.what has no rule"]);
  });

  it("refuses a rule for a field the schema does not have", () => {
    const problems = problemsOf(() =>
      assertPermissionMap(rawSchema(), set(mapWith({ Note: { secretBody: hasScope(["notes:read:any"]) } }))),
    );
    expect(problems).toEqual(["Note.secretBody has a rule but is not in the schema"]);
  });

  it("makes root fields decide explicitly: `parent` is refused on Query and Mutation", () => {
    const problems = problemsOf(() =>
      assertPermissionMap(rawSchema(), set(mapWith({ Query: { users: parent } }))),
    );
    expect(problems).toEqual(['Query.users is a root field: its rule cannot be "parent"']);
  });

  it("refuses an admin-only rule on a scope that ordinary users are granted", () => {
    const problems = problemsOf(() =>
      assertPermissionMap(rawSchema(), set(mapWith({ Query: { users: adminOnly("users:read") } }))),
    );
    expect(problems).toEqual(["Query.users is admin-only but users:read is granted to other roles"]);
  });

  it("refuses a scope that is not in the catalogue", () => {
    const bogus = { kind: "scopes", anyOf: [["users:delete:all"]] } as unknown as FieldRule<unknown>;
    const problems = problemsOf(() =>
      assertPermissionMap(rawSchema(), set(mapWith({ Query: { users: bogus } }))),
    );
    expect(problems).toEqual(["Query.users names unknown scope users:delete:all"]);
  });

  it("keeps the fallback deny on a field left out of the map even when the guard is skipped", async () => {
    const schema = rawSchema("extend type Query { secret: String }");
    const secretResolvers = { Query: { secret: () => "the secret" } };
    const withSecret = makeExecutableSchema({
      typeDefs: `${loadTypeDefs()}\nextend type Query { secret: String }`,
      resolvers: [resolvers as never, secretResolvers],
    });
    expect(schemaFields(schema)).toContain("Query.secret");
    const unguarded = applyMiddleware(withSecret, decidedMiddleware(withSecret, set(permissions)));
    const res = await graphql({ schema: unguarded, source: "{ secret }", contextValue: { viewer: null } });
    expect(res.data).toEqual({ secret: null });
    expect(res.errors?.[0]?.originalError).toMatchObject({ code: "FORBIDDEN", reason: "denied_by_default" });
  });
});

describe("only fields with a real decision are wrapped", () => {
  const none = rawSchema();
  const enforced = applyPermissions(none, set(permissions));
  const naive = applyPermissions(none, set(permissions), "naive");
  const resolverOf = (schema: GraphQLSchema, field: string) => {
    const [type, name] = field.split(".") as [string, string];
    const t = schema.getType(type);
    if (!isObjectType(t)) throw new Error(`${type} is not an object type`);
    return t.getFields()[name]!.resolve;
  };
  const rules = Object.entries(permissions as unknown as LooseMap).flatMap(([type, fields]) =>
    Object.entries(fields).map(([name, rule]) => [`${type}.${name}`, rule] as const),
  );

  it.each(rules)("%s is wrapped exactly when its rule decides something", (field, rule) => {
    const wrapped = resolverOf(enforced, field) !== resolverOf(none, field);
    expect(wrapped).toBe(!isOpen(rule));
  });

  it("wraps a minority of fields (the list query's leaves are all open)", () => {
    const decided = rules.filter(([, rule]) => !isOpen(rule)).map(([field]) => field);
    expect(decided.sort()).toEqual([
      "AuthPayload.user",
      "Mutation.addPasskey",
      "Mutation.changePassword",
      "Mutation.logout",
      "Mutation.logoutEverywhere",
      "Mutation.narrowToken",
      "Mutation.passkeyRegistrationOptions",
      "Mutation.reauthenticate",
      "Mutation.removePasskey",
      "Mutation.revokeSession",
      "Mutation.rotateSigningKey",
      "Query.passkeys",
      "Query.sessions",
      "Query.user",
      "Query.users",
      "User.email",
    ]);
  });

  it("the naive reference wraps every field", () => {
    for (const [field] of rules) expect(resolverOf(naive, field), field).not.toBe(resolverOf(none, field));
  });

  it("the map type has an entry for every generated resolver type", () => {
    // Compile-time check made visible: a map missing a field does not type-check against the schema.
    // @ts-expect-error Session lacks createdAt, lastUsedAt and the rest
    const typed: SchemaPermissionMap = { ...permissions, Session: { id: publicField } };
    expect(typed.Session.id).toBe(publicField);
  });
});
