// Permissions written in a module's SDL: @public, @authenticated, @requiresScopes, @policy and
// @stepUp with Apollo Router's meaning, compiled to the same rules and fast path as the map.
import { makeExecutableSchema } from "@graphql-tools/schema";
import { type ExecutionResult, execute, type GraphQLSchema, parse, subscribe } from "graphql";
import { describe, expect, it } from "vitest";
import type { UserAuthentication, Viewer } from "../../src/auth/viewer.js";
import { directivePermissions, permissionDirectivesSdl } from "../../src/authz/directives.js";
import { hasScope, type Policies } from "../../src/authz/field-rule.js";
import { permissionRows } from "../../src/authz/permission-report.js";
import { permissionsFor } from "../../src/authz/permissions-for.js";
import { scopeCatalogue } from "../../src/authz/scope-catalogue.js";
import { type AuthorizationMode, applyPermissions, PermissionMapError } from "../../src/authz/shield.js";
import { epochSeconds } from "../../src/clock.js";
import { FakeClock } from "../support/fake-clock.js";
import { testViewer } from "../support/test-viewer.js";

const ordersModule = {
  name: "orders",
  scopes: {
    "orders:read": { description: "Read your orders" },
    "orders:write": { description: "Change your orders" },
    "orders:read:any": { description: "Read every order", adminOnly: true },
  },
};
const catalogue = scopeCatalogue([ordersModule]);

const policies: Policies = {
  orderOwner: ({ viewer, parent }) => (parent as { ownerId: string }).ownerId === viewer?.userId,
  support: ({ viewer }) => viewer?.userId === "support",
  explodes: () => {
    throw new Error("a bug in the module");
  },
};

const coreSdl = "type Query { ping: String @public } type Mutation { noop: Boolean @public }";
const ordersSdl = /* GraphQL */ `
  type Order @authenticated {
    id: ID
    amount: Int @policy(policies: [["orderOwner"], ["support"]])
    label: String @public
  }
  extend type Order {
    status: String
  }
  extend type Query {
    orders: [Order!] @requiresScopes(scopes: [["orders:read"], ["orders:read:any"]])
    readAndWrite: String @requiresScopes(scopes: [["orders:read", "orders:write"], ["orders:read:any"]])
    publicOrder: Order @public
    supportDesk: String @authenticated @policy(policies: [["support"]])
    broken: String @policy(policies: [["explodes"]])
  }
  extend type Mutation {
    cancelOrder(id: ID!): Boolean @requiresScopes(scopes: [["orders:write"]]) @stepUp(maxAge: 300)
    strongAction: Boolean @stepUp(acrValues: ["phr"])
  }
  type Subscription {
    orderEvents: Order @authenticated @policy(policies: [["orderOwner"]])
  }
`;

const ORDERS = [
  { id: "o1", ownerId: "u1", amount: 10, label: "mine", status: "open" },
  { id: "o2", ownerId: "u2", amount: 20, label: "theirs", status: "open" },
];

function moduleSchema(sdl = ordersSdl): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: [permissionDirectivesSdl, coreSdl, sdl],
    // The build-time tests declare other fields than the module's resolvers answer.
    resolverValidationOptions: { requireResolversToMatchSchema: sdl === ordersSdl ? "error" : "ignore" },
    resolvers: {
      Query: {
        ping: () => "pong",
        orders: () => ORDERS,
        readAndWrite: () => "ok",
        publicOrder: () => ORDERS[0],
        supportDesk: () => "desk",
        broken: () => "unreachable",
      },
      Mutation: { noop: () => true, cancelOrder: () => true, strongAction: () => true },
      Subscription: {
        orderEvents: {
          subscribe: async function* () {
            yield* ORDERS;
          },
          resolve: (order: unknown) => order,
        },
      },
    },
  });
}

function secured(mode: AuthorizationMode = "enforced"): GraphQLSchema {
  const schema = moduleSchema();
  return applyPermissions(schema, permissionsFor(schema, { catalogue, policies }), mode);
}

const clock = new FakeClock("2030-01-01T00:00:00.000Z");
const signedIn = (ageSeconds: number, acr = "pwd"): UserAuthentication => ({
  authTime: epochSeconds(clock.now()) - ageSeconds,
  acr,
  amr: [acr],
});
const as = (scopes: string[], userId = "u1", authentication: UserAuthentication | null = null): Viewer => ({
  ...testViewer(scopes, authentication),
  userId,
});

const enforced = secured();

async function run(source: string, viewer: Viewer | null, schema = enforced): Promise<ExecutionResult> {
  const contextValue = { viewer, stepUp: { maxAgeSeconds: 120, clock } };
  return (await execute({ schema, document: parse(source), contextValue })) as ExecutionResult;
}

/** Each error as the client would check it: where, and the public extensions. */
const refusals = (result: ExecutionResult) =>
  (result.errors ?? []).map((e) => ({
    path: e.path,
    ...(e.originalError as unknown as { publicExtensions(): object; code: string }).publicExtensions(),
    code: (e.originalError as unknown as { code: string }).code,
  }));

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof PermissionMapError) return error.problems;
    throw error;
  }
  return [];
}

describe("@requiresScopes: the outer list ORs, each inner list ANDs", () => {
  it.each([
    ["orders:read", ["orders:read"]],
    ["orders:read:any", ["orders:read:any"]],
  ])("lets each alternative through (%s)", async (_name, scopes) => {
    const res = await run("{ orders { id } }", as(scopes, "support"));
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ orders: [{ id: "o1" }, { id: "o2" }] });
  });

  it("refuses a partial AND-group with FORBIDDEN naming what each alternative still lacks", async () => {
    const partial = await run("{ readAndWrite ping }", as(["orders:read"]));
    expect(partial.data).toEqual({ readAndWrite: null, ping: "pong" });
    expect(refusals(partial)).toEqual([
      {
        path: ["readAndWrite"],
        code: "FORBIDDEN",
        reason: "insufficient_scope",
        requiredScopes: [["orders:write"], ["orders:read:any"]],
      },
    ]);
    const whole = await run("{ readAndWrite }", as(["orders:read", "orders:write"]));
    expect(whole.data).toEqual({ readAndWrite: "ok" });
  });

  it("answers an anonymous caller UNAUTHENTICATED", async () => {
    const res = await run("{ orders { id } ping }", null);
    expect(res.data).toEqual({ orders: null, ping: "pong" });
    expect(refusals(res)).toEqual([
      { path: ["orders"], code: "UNAUTHENTICATED", reason: "authentication_required" },
    ]);
  });
});

describe("@policy: named functions of the viewer, the parent and the arguments", () => {
  it("nulls the field with FORBIDDEN at its path while its siblings resolve", async () => {
    const res = await run("{ orders { id amount label } }", as(["orders:read"], "u1"));
    expect(res.data).toEqual({
      orders: [
        { id: "o1", amount: 10, label: "mine" },
        { id: "o2", amount: null, label: "theirs" },
      ],
    });
    expect(refusals(res)).toEqual([
      { path: ["orders", 1, "amount"], code: "FORBIDDEN", reason: "policy_denied", requiredScopes: [] },
    ]);
  });

  it("ORs the policy groups: the support user reads every amount", async () => {
    const res = await run("{ orders { amount } }", as(["orders:read"], "support"));
    expect(res.data).toEqual({ orders: [{ amount: 10 }, { amount: 20 }] });
  });

  it("denies when a policy throws, naming nothing of the module's internals", async () => {
    const res = await run("{ broken }", as([], "support"));
    expect(res.data).toEqual({ broken: null });
    expect(refusals(res)).toEqual([
      { path: ["broken"], code: "FORBIDDEN", reason: "policy_denied", requiredScopes: [] },
    ]);
    expect(res.errors?.[0]?.message).not.toContain("a bug in the module");
  });

  it("ANDs @authenticated with @policy: anonymous is UNAUTHENTICATED, a signed-in non-match FORBIDDEN", async () => {
    expect(refusals(await run("{ supportDesk }", null))).toEqual([
      { path: ["supportDesk"], code: "UNAUTHENTICATED", reason: "authentication_required" },
    ]);
    expect(refusals(await run("{ supportDesk }", as([], "u1")))).toMatchObject([
      { path: ["supportDesk"], code: "FORBIDDEN", reason: "policy_denied" },
    ]);
    expect((await run("{ supportDesk }", as([], "support"))).data).toEqual({ supportDesk: "desk" });
  });
});

describe("type-level directives", () => {
  it("apply to every field without a directive of its own, those added by `extend type` included", () => {
    const { fieldLevel, typeLevel } = directivePermissions(moduleSchema());
    expect(typeLevel.Order).toEqual({ id: { kind: "authenticated" }, status: { kind: "authenticated" } });
    expect(fieldLevel.Order).toEqual({
      amount: { kind: "policy", anyOf: [["orderOwner"], ["support"]] },
      label: { kind: "public" },
    });
  });

  it("refuse an anonymous caller the extension's field, while a field's own @public overrides the type's", async () => {
    const res = await run("{ publicOrder { label status id } }", null);
    expect(res.data).toEqual({ publicOrder: { label: "mine", status: null, id: null } });
    expect(refusals(res)).toEqual([
      { path: ["publicOrder", "status"], code: "UNAUTHENTICATED", reason: "authentication_required" },
      { path: ["publicOrder", "id"], code: "UNAUTHENTICATED", reason: "authentication_required" },
    ]);
    const signed = await run("{ publicOrder { label status id } }", as([]));
    expect(signed.data).toEqual({ publicOrder: { label: "mine", status: "open", id: "o1" } });
  });

  it("are refused on a root type: a module extending Query would decide every other root field", () => {
    const schema = moduleSchema(`${ordersSdl} extend type Query @authenticated { more: String }`);
    expect(problemsOf(() => permissionsFor(schema, { catalogue, policies }))).toContain(
      "type Query: a root type takes no permission directive; decide each of its fields",
    );
  });
});

describe("@stepUp (RFC 9470)", () => {
  it("with @requiresScopes: scopes first (FORBIDDEN), then a recent authentication", async () => {
    const cancel = 'mutation { cancelOrder(id: "o1") }';
    expect(refusals(await run(cancel, as([], "u1", signedIn(0))))).toMatchObject([
      { code: "FORBIDDEN", requiredScopes: [["orders:write"]] },
    ]);
    const stale = await run(cancel, as(["orders:write"], "u1", signedIn(301)));
    expect(stale.data).toEqual({ cancelOrder: null });
    expect(refusals(stale)).toEqual([
      {
        path: ["cancelOrder"],
        code: "UNAUTHENTICATED",
        reason: "insufficient_user_authentication",
        maxAge: 300,
      },
    ]);
    expect((await run(cancel, as(["orders:write"], "u1", signedIn(300)))).data).toEqual({
      cancelOrder: true,
    });
  });

  it("alone: authenticated and recent, maxAge from STEP_UP_MAX_AGE_SECONDS, acrValues in the refusal", async () => {
    const strong = "mutation { strongAction }";
    expect(refusals(await run(strong, null))).toEqual([
      { path: ["strongAction"], code: "UNAUTHENTICATED", reason: "authentication_required" },
    ]);
    expect(refusals(await run(strong, as([], "u1", signedIn(1, "pwd"))))).toEqual([
      {
        path: ["strongAction"],
        code: "UNAUTHENTICATED",
        reason: "insufficient_user_authentication",
        maxAge: 120,
        acrValues: ["phr"],
      },
    ]);
    expect(refusals(await run(strong, as([], "u1", signedIn(121, "phr"))))).toMatchObject([
      { reason: "insufficient_user_authentication", maxAge: 120 },
    ]);
    expect((await run(strong, as([], "u1", signedIn(120, "phr")))).data).toEqual({ strongAction: true });
  });
});

describe("subscriptions decided by directives", () => {
  async function events(viewer: Viewer | null) {
    const contextValue = { viewer, stepUp: { maxAgeSeconds: 120, clock } };
    const stream = await subscribe({
      schema: enforced,
      document: parse("subscription { orderEvents { id } }"),
      contextValue,
    });
    if (!(Symbol.asyncIterator in stream)) return { start: refusals(stream), events: [] };
    const seen: ExecutionResult[] = [];
    for await (const event of stream) seen.push(event);
    return { start: [], events: seen };
  }

  it("refuses the stream's start to an anonymous caller", async () => {
    expect((await events(null)).start).toEqual([
      { path: ["orderEvents"], code: "UNAUTHENTICATED", reason: "authentication_required" },
    ]);
  });

  it("runs the policy on every event, with the event as parent", async () => {
    const { start, events: seen } = await events(as([], "u1"));
    expect(start).toEqual([]);
    expect(seen.map((e) => e.data)).toEqual([{ orderEvents: { id: "o1" } }, { orderEvents: null }]);
    expect(refusals(seen[1]!)).toMatchObject([
      { path: ["orderEvents"], code: "FORBIDDEN", reason: "policy_denied" },
    ]);
  });
});

describe("default deny and the build-time checks", () => {
  it("stops with one error listing every undecided field", () => {
    const schema = moduleSchema(`
      type Order { amount: Int id: ID @public }
      extend type Query { orders: [Order] }
      type Subscription { orderEvents: Order }
    `);
    let error: unknown;
    try {
      permissionsFor(schema, { catalogue, policies });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PermissionMapError);
    expect((error as PermissionMapError).undecided).toEqual([
      "Order.amount",
      "Query.orders",
      "Subscription.orderEvents",
    ]);
    expect((error as PermissionMapError).message).toBe(
      "Fields with no permission rule: Order.amount, Query.orders, Subscription.orderEvents",
    );
  });

  it("refuses unknown scopes and policies, empty lists, and a field decided twice, all at once", () => {
    const schema = moduleSchema(`
      type Order { id: ID @public }
      extend type Query {
        a: String @requiresScopes(scopes: [["orders:delete"]])
        b: String @policy(policies: [["nobody"]])
        c: String @requiresScopes(scopes: [])
        d: String @policy(policies: [[]])
        e: String @public
      }
    `);
    const problems = problemsOf(() =>
      permissionsFor(schema, { catalogue, policies, maps: [{ Query: { e: hasScope(["orders:read"]) } }] }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "Query.a names unknown scope orders:delete",
        "Query.b names unknown policy nobody",
        "Query.c: @requiresScopes needs at least one non-empty list of scopes",
        "Query.d: @policy needs at least one non-empty list of policies",
        "Query.e is decided both by a directive and by a permission map rule",
        "Query.c has no rule",
        "Query.d has no rule",
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it("lets a map decide what the SDL leaves open, and a map rule overrides a type-level directive", () => {
    const schema = moduleSchema(`
      type Order @authenticated { id: ID amount: Int }
      extend type Query { orders: [Order] }
    `);
    const set = permissionsFor(schema, {
      catalogue,
      policies,
      maps: [
        { Query: { orders: hasScope(["orders:read"]) }, Order: { amount: hasScope(["orders:read:any"]) } },
      ],
    });
    expect((set.map as Record<string, Record<string, unknown>>).Order).toEqual({
      amount: { kind: "scopes", anyOf: [["orders:read:any"]] },
      id: { kind: "authenticated" },
    });
  });
});

describe("the permission report prints SDL rules like the map's", () => {
  it("names policies, step-up and combined directives", () => {
    const schema = moduleSchema();
    const rows = permissionRows(schema, permissionsFor(schema, { catalogue, policies }).map);
    const rule = (field: string) => rows.find((r) => r.field === field)?.rule;
    expect(rule("Order.amount")).toBe("policy: `orderOwner` | `support`");
    expect(rule("Query.orders")).toBe("scope `orders:read` or `orders:read:any`");
    expect(rule("Mutation.cancelOrder")).toBe("scope `orders:write` + step-up: authenticated within 300 s");
    expect(rule("Mutation.strongAction")).toBe(
      "step-up: authenticated within `STEP_UP_MAX_AGE_SECONDS` with acr `phr`",
    );
    expect(rule("Query.supportDesk")).toBe("authenticated and policy: `support`");
    expect(rule("Order.status")).toBe("authenticated");
  });
});

describe("fast path and graphql-shield agree on the SDL rule kinds", () => {
  const naive = secured("naive");
  const VIEWERS: [string, () => Viewer | null][] = [
    ["anonymous", () => null],
    ["the owner", () => as(["orders:read"], "u1")],
    ["support, stale", () => as(["orders:read:any"], "support", signedIn(1000))],
    ["a writer, fresh passkey", () => as(["orders:read", "orders:write"], "u1", signedIn(0, "phr"))],
  ];
  const OPERATIONS = [
    "{ orders { id amount label status } readAndWrite supportDesk broken }",
    "{ publicOrder { id amount label status } ping }",
    'mutation { cancelOrder(id: "o1") strongAction noop }',
  ];
  const outcome = (result: ExecutionResult) => ({
    data: result.data,
    // graphql-shield's middleware is async, so errors of sibling fields arrive in another order.
    errors: (result.errors ?? [])
      .map((e) => ({ path: e.path, error: { ...e.originalError } }))
      .sort((x, y) => JSON.stringify(x.path).localeCompare(JSON.stringify(y.path))),
  });

  it.each(VIEWERS)("identical data and errors for %s", async (_name, viewer) => {
    for (const operation of OPERATIONS) {
      const fast = outcome(await run(operation, viewer()));
      const reference = outcome(await run(operation, viewer(), naive));
      expect(fast, operation).toEqual(reference);
    }
  });
});
