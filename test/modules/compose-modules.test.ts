// What composing a developer's modules refuses, each with one error that names the module and
// every problem, and what it undoes when a module cannot start. The happy path is the notes module
// (the whole suite) and the packed example project (test/package/projects-example.test.ts).
import { describe, expect, it } from "vitest";
import { ScopeCatalogueError } from "../../src/authz/scope-catalogue.js";
import { PermissionMapError } from "../../src/authz/shield.js";
import { ModuleCompositionError } from "../../src/graphql/compose-modules.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { defineModule, type HoldfastModule } from "../../src/index.js";
import { createTestingServer } from "../../src/testing/index.js";

const problemsOf = (modules: readonly HoldfastModule[]): readonly string[] => {
  try {
    buildSchema({ modules });
  } catch (error) {
    if (error instanceof ModuleCompositionError || error instanceof ScopeCatalogueError)
      return error.problems;
    if (error instanceof PermissionMapError) return error.problems;
    throw error;
  }
  return [];
};

const orders = (typeDefs: string, extra: Partial<HoldfastModule> = {}) =>
  defineModule({ name: "orders", typeDefs, ...extra });

describe("composing modules", () => {
  it("names every field no directive and no map decides, in one error (default deny)", () => {
    const module = orders(`
      type Order { id: ID! amount: Int }
      extend type Query { orders: [Order!] @authenticated  order(id: ID!): Order }
    `);
    expect(() => buildSchema({ modules: [module] })).toThrow(
      /Fields with no permission rule: Order\.amount, Order\.id, Query\.order/,
    );
  });

  it("refuses two modules of one name, and SDL that does not parse, naming the module", () => {
    const a = orders("extend type Query { a: Int @public }");
    const b = orders("extend type Query { b: Int @public }");
    const broken = defineModule({ name: "broken", typeDefs: "type {" });
    const problems = problemsOf([a, b, broken]);
    expect(problems).toContain("two modules are named orders");
    expect(problems.some((p) => p.startsWith("module broken: its typeDefs do not parse"))).toBe(true);
  });

  it("refuses a resolver for a field the SDL does not declare, and a field two modules resolve", () => {
    const a = orders("extend type Query { total: Int @public }", {
      resolvers: { Query: { total: () => 1, stray: () => 2 } },
    });
    expect(problemsOf([a]).join("\n")).toMatch(/Query\.stray/);
    const b = defineModule({
      name: "billing",
      typeDefs: "extend type Query { invoices: Int @public }",
      resolvers: { Query: { total: () => 3 } },
    });
    expect(
      problemsOf([
        orders("extend type Query { total: Int @public }", { resolvers: { Query: { total: () => 1 } } }),
        b,
      ]),
    ).toContain("module billing: Query.total already has a resolver from module orders");
  });

  it("refuses a policy two modules define, and a scope the core or another module declared", () => {
    const allow = () => true;
    const a = orders("extend type Query { a: Int @public }", {
      policies: { owner: allow },
      scopes: { "orders:read": { description: "Read orders" } },
    });
    const b = defineModule({
      name: "billing",
      typeDefs: "extend type Query { b: Int @public }",
      policies: { owner: allow },
    });
    expect(problemsOf([a, b])).toEqual(["policy owner is defined by both orders and billing"]);
    const c = defineModule({
      name: "billing",
      typeDefs: "extend type Query { b: Int @public }",
      scopes: { "users:read": { description: "again" }, "orders:read": { description: "again" } },
    });
    const scopes = problemsOf([a, c]).join("\n");
    expect(scopes).toMatch(/users:read.*core.*billing/);
    expect(scopes).toMatch(/orders:read.*orders.*billing/);
  });

  it("refuses a module name that is not lower-case letters, digits and dashes", () => {
    expect(() => defineModule({ name: "Orders!", typeDefs: "extend type Query { a: Int @public }" })).toThrow(
      /module name "Orders!"/,
    );
  });

  it("adds Subscription only when a module extends it", () => {
    expect(buildSchema().getSubscriptionType()).toBeUndefined();
    const live = orders("extend type Subscription { orderEvents: Int @authenticated }", {
      resolvers: { Subscription: { orderEvents: { subscribe: () => (async function* () {})() } } },
    });
    expect(
      Object.keys(
        buildSchema({ modules: [live] })
          .getSubscriptionType()
          ?.getFields() ?? {},
      ),
    ).toEqual(["orderEvents"]);
  });
});

describe("a module's setup", () => {
  it("stops the start naming the module, and undoes the setups that ran before it", async () => {
    const undone: string[] = [];
    const first = defineModule({
      name: "first",
      typeDefs: "extend type Query { first: Int @public }",
      setup: async () => async () => {
        undone.push("first");
      },
    });
    const failing = defineModule({
      name: "failing",
      typeDefs: "extend type Query { failing: Int @public }",
      setup: async () => {
        throw new Error("no table for you");
      },
    });
    await expect(createTestingServer({ modules: [first, failing] })).rejects.toThrow(
      "module failing: setup failed: no table for you",
    );
    expect(undone).toEqual(["first"]);
  });

  it("runs with the shared database before the first request, and its teardown at close", async () => {
    const seen: { provider?: string; closed?: boolean } = {};
    const module = defineModule({
      name: "probe",
      typeDefs: "extend type Query { probe: Int @public }",
      setup: async ({ database }) => {
        seen.provider = database.provider;
        return async () => {
          seen.closed = true;
        };
      },
    });
    const t = await createTestingServer({ modules: [module] });
    expect(seen.provider).toBe(t.server.database.driver.provider);
    expect(seen.closed).toBeUndefined();
    await t.close();
    expect(seen.closed).toBe(true);
  });
});
