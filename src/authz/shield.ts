// The only file that imports graphql-shield. Its defaults are unsafe for us (fallbackRule allow,
// external errors swallowed, random rule names), so every option is set here, once.
import { createRequire } from "node:module";
import type { GraphQLSchema } from "graphql";
import type { IMiddlewareFieldMap, IMiddlewareFunction, IMiddlewareTypeMap } from "graphql-middleware";
import type { or } from "graphql-shield";
import { ForbiddenError } from "../errors/app-error.js";
import {
  authenticationRequired,
  decideOwner,
  decidePolicy,
  decideScopes,
  decideStepUp,
  markSubject,
  type RuleContext,
  type RuleResult,
} from "./decisions.js";
import type { FieldRule, Policies, ScopeRequirement } from "./field-rule.js";
import { assertPermissionMap, isOpen, type LooseMap, type PermissionSet } from "./permission-guard.js";

export {
  assertPermissionMap,
  isOpen,
  type LooseMap,
  PermissionMapError,
  type PermissionSet,
  schemaFields,
  scopesOf,
} from "./permission-guard.js";

// graphql-shield 7.6.5, its last release, has its ESM build `import { isUndefined } from "util"`,
// which Node 23 removed: on Node 23+ importing it fails at link time (graphql-shield issue #1561;
// the fix, PR #1552, was merged and never released). Its CommonJS build reads `util.isUndefined`
// only inside `chain` and `race`, which Holdfast does not use, so it loads and runs on every Node
// without patching node_modules: that also holds where Holdfast is installed from its tarball and
// graphql-shield comes unpatched from the registry. graphql-middleware comes from its CommonJS
// build too, so that `applyMiddleware` recognises the middleware generator `shield()` makes.
const require = createRequire(import.meta.url);
const { allow, deny, rule, shield } = require("graphql-shield") as typeof import("graphql-shield");
const { applyMiddleware } = require("graphql-middleware") as typeof import("graphql-middleware");

type ShieldRule = Parameters<typeof or>[number];
/** The callable form of a middleware (graphql-middleware does not export its name). */
type MiddlewareResolver = Exclude<IMiddlewareFunction, { resolve?: unknown }>;

/**
 * How buildSchema applies the permission map.
 * - `enforced`: the map; only fields with a real decision are wrapped. The only production mode.
 * - `naive`: the same rules with graphql-shield wrapping every field (bench/authz.ts reference).
 * - `none`: no authorization at all (bench/authz.ts baseline).
 */
export type AuthorizationMode = "enforced" | "naive" | "none";

// --- compiling descriptors to graphql-shield rules ---

type Decide = (
  parent: unknown,
  args: unknown,
  context: RuleContext & ShieldStore,
  info: unknown,
) => RuleResult;

/** graphql-shield's per-request store, on the context: `contextual` rules are cached here by name. */
interface ShieldStore {
  _shield?: { cache: Record<string, unknown> };
}

/** A decided field's rule: the graphql-shield rule, and what the fast path needs to run it. */
interface CompiledRule {
  readonly shieldRule: ShieldRule;
  readonly name: string;
  readonly cache: "contextual" | "no_cache";
  readonly decide: Decide;
}

/**
 * One graphql-shield rule per distinct decision, named after it: graphql-shield's contextual cache
 * is keyed by rule name, so two fields with the same requirement share one evaluation per request.
 */
function compiler(policies: Policies) {
  const compiled = new Map<string, CompiledRule>();
  const once = (name: string, cache: CompiledRule["cache"], decide: Decide): CompiledRule => {
    let found = compiled.get(name);
    if (!found) {
      found = { shieldRule: rule(name, { cache })(decide as never), name, cache, decide };
      compiled.set(name, found);
    }
    return found;
  };
  const key = (requirement: ScopeRequirement) => requirement.map((g) => g.join("+")).join("|");

  const compile = (fieldRule: FieldRule<unknown>, field: string): CompiledRule | null => {
    switch (fieldRule.kind) {
      case "public":
      case "parent":
        return null;
      // Request-invariant: decided once per request (graphql-shield "contextual" cache).
      case "authenticated":
        return once("authenticated", "contextual", (_p, _a, ctx) =>
          ctx.viewer ? true : authenticationRequired(),
        );
      case "scopes": {
        const { anyOf } = fieldRule;
        return once(`scopes:${key(anyOf)}`, "contextual", (_p, _a, ctx) => decideScopes(ctx.viewer, anyOf));
      }
      case "admin": {
        const anyOf = [[fieldRule.scope]];
        return once(`admin:${fieldRule.scope}`, "contextual", (_p, _a, ctx) =>
          decideScopes(ctx.viewer, anyOf),
        );
      }
      // Parent-dependent: evaluated per parent. "strict" would hash the whole parent object on
      // every call; the check itself is one string comparison and a Set lookup, cheaper than any
      // cache lookup, so it is not cached at all.
      case "owner":
        return once(`owner:${field}`, "no_cache", (parentValue, _a, ctx) =>
          decideOwner(fieldRule, parentValue, ctx.viewer, ctx),
        );
      // Time-dependent, but constant within a request unless the arguments matter (`unless`).
      case "stepUp": {
        const name = `stepUp:${key(fieldRule.anyOf)}:${fieldRule.maxAgeSeconds}:${(fieldRule.acrValues ?? []).join("+")}`;
        return fieldRule.unless
          ? once(`${name}:${field}`, "no_cache", (_p, args, ctx) => decideStepUp(fieldRule, args, ctx))
          : once(name, "contextual", (_p, args, ctx) => decideStepUp(fieldRule, args, ctx));
      }
      // A module's functions of the parent and the arguments: never cached.
      case "policy":
        return once(`policy:${key(fieldRule.anyOf)}`, "no_cache", (parentValue, args, ctx) =>
          decidePolicy(fieldRule, policies, parentValue, args, ctx),
        );
      // Each rule in turn, the first refusal answers; cached per request only if every part is.
      case "all": {
        const parts = fieldRule.rules.flatMap((inner) => compile(inner, field) ?? []);
        const cache = parts.every((p) => p.cache === "contextual") ? "contextual" : "no_cache";
        const name = `all(${parts.map((p) => p.name).join(",")})`;
        return once(name, cache, (parentValue, args, ctx, info) => {
          for (const part of parts) {
            const decision = part.decide(parentValue, args, ctx, info);
            if (decision !== true) return decision;
          }
          return true;
        });
      }
      // Records the payload's account as owner of itself for the rest of this request.
      case "subject":
        return once("subject", "no_cache", (payload, _a, ctx) => markSubject(ctx, payload));
    }
  };
  return compile;
}

const fallbackError = () =>
  new ForbiddenError([], "No permission rule allows this field", "denied_by_default");

const shieldOptions = {
  fallbackRule: deny,
  // Our rules return typed errors; they must reach the client as they are.
  allowExternalErrors: true,
  debug: false,
  fallbackError,
};

/** The map compiled: a graphql-shield rule tree (open fields map to `allow`) and each decided field's rule. */
function compileMap(permissions: PermissionSet) {
  const compile = compiler(permissions.policies ?? {});
  const tree: Record<string, Record<string, ShieldRule>> = {};
  const decided = new Map<string, CompiledRule>();
  for (const [type, fields] of Object.entries(permissions.map as LooseMap)) {
    const compiledFields: Record<string, ShieldRule> = {};
    for (const [name, fieldRule] of Object.entries(fields)) {
      const compiled = compile(fieldRule, `${type}.${name}`);
      compiledFields[name] = compiled ? compiled.shieldRule : allow;
      if (compiled) decided.set(`${type}.${name}`, compiled);
    }
    tree[type] = compiledFields;
  }
  return { tree, decided };
}

/** The graphql-shield rule tree for every field of the map (open fields map to `allow`). */
export function ruleTree(permissions: PermissionSet): Record<string, Record<string, ShieldRule>> {
  return compileMap(permissions).tree;
}

/**
 * A decided field's middleware. graphql-shield's own is async (an async middleware awaiting an
 * async Rule.resolve): three promise hops per field, which on a 500-row list cost more than the
 * fields themselves. Our rules answer synchronously, so this runs the same rule with graphql-shield's
 * semantics without the hops: the `contextual` result is kept in graphql-shield's store on the
 * context (`_shield.cache[name]`), `true` resolves the field, an Error is the field's error, and
 * a rule that throws or answers anything else is a denial (fallbackError).
 */
function fastMiddleware({ name, cache, decide }: CompiledRule): MiddlewareResolver {
  return (resolve, parent, args, ctx: RuleContext & ShieldStore, info) => {
    let decision: unknown;
    try {
      if (cache === "contextual") {
        ctx._shield ??= { cache: {} };
        const store = ctx._shield.cache;
        decision = store[name];
        if (!decision) {
          decision = decide(parent, args, ctx, info);
          store[name] = decision;
        }
      } else {
        decision = decide(parent, args, ctx, info);
      }
    } catch {
      return fallbackError();
    }
    if (decision === true) return resolve(parent, args, ctx, info);
    return decision instanceof Error ? decision : fallbackError();
  };
}

/**
 * The middleware of the fields with a real decision, and nothing else. graphql-shield generates a
 * middleware for every field of the schema (its fallback `deny` for any field the tree leaves out);
 * fields whose map rule is `public` or `parent` are dropped, decided fields get the fast path, and
 * a field missing from the map keeps graphql-shield's fallback deny even if the guard were skipped.
 */
export function decidedMiddleware(schema: GraphQLSchema, permissions: PermissionSet): IMiddlewareTypeMap {
  const loose = permissions.map as LooseMap;
  const { tree, decided } = compileMap(permissions);
  const all = shield(tree, shieldOptions).generate(schema) as IMiddlewareTypeMap;
  const kept: IMiddlewareTypeMap = {};
  for (const [type, fields] of Object.entries(all)) {
    const keptFields: IMiddlewareFieldMap = {};
    for (const [name, middleware] of Object.entries(fields as IMiddlewareFieldMap)) {
      const fieldRule = Object.hasOwn(loose, type) ? loose[type]![name] : undefined;
      if (fieldRule === undefined) keptFields[name] = middleware;
      else if (!isOpen(fieldRule)) {
        const compiled = decided.get(`${type}.${name}`);
        keptFields[name] = compiled ? fastMiddleware(compiled) : middleware;
      }
    }
    if (Object.keys(keptFields).length > 0) kept[type] = keptFields;
  }
  return kept;
}

/**
 * Applies the permissions (a map, or what permissionsFor merged from maps and directives) to an
 * executable schema; `enforced` and `naive` run the build-time guard first.
 */
export function applyPermissions(
  schema: GraphQLSchema,
  permissions: PermissionSet,
  mode: AuthorizationMode = "enforced",
): GraphQLSchema {
  switch (mode) {
    case "none":
      return schema;
    case "naive":
      assertPermissionMap(schema, permissions);
      return applyMiddleware(schema, shield(ruleTree(permissions), shieldOptions));
    case "enforced":
      assertPermissionMap(schema, permissions);
      return guardSubscriptionStarts(
        applyMiddleware(schema, decidedMiddleware(schema, permissions)),
        permissions,
      );
  }
}

/**
 * A subscription field's rule at the start of the stream: without its policies, which decide
 * from the object (`parent`), and a stream has none before its first event. They run per event.
 */
function atStreamStart(fieldRule: FieldRule<unknown>): FieldRule<unknown> | null {
  if (fieldRule.kind === "policy") return null;
  if (fieldRule.kind !== "all") return fieldRule;
  const rules = fieldRule.rules.flatMap((inner) => atStreamStart(inner) ?? []);
  return rules.length === 0 ? null : rules.length === 1 ? rules[0]! : { kind: "all", rules };
}

/**
 * graphql-middleware wraps a subscription field's `resolve` (run for every event) and leaves its
 * `subscribe` alone, so a caller without the scope could open a stream and be refused event by
 * event. The field's own rule, on the same fast path, also guards the start of the stream (its
 * policies excepted: they need an event to decide on).
 */
function guardSubscriptionStarts(schema: GraphQLSchema, permissions: PermissionSet): GraphQLSchema {
  const type = schema.getSubscriptionType();
  if (!type) return schema;
  const loose = permissions.map as LooseMap;
  const startRules: Record<string, FieldRule<unknown>> = {};
  for (const [name, fieldRule] of Object.entries(Object.hasOwn(loose, type.name) ? loose[type.name]! : {})) {
    const start = atStreamStart(fieldRule);
    if (start) startRules[name] = start;
  }
  const { decided } = compileMap({ ...permissions, map: { [type.name]: startRules } });
  for (const field of Object.values(type.getFields())) {
    const compiled = decided.get(`${type.name}.${field.name}`);
    const subscribe = field.subscribe;
    if (!compiled || !subscribe) continue;
    const middleware = fastMiddleware(compiled);
    field.subscribe = (parent, args, ctx, info) =>
      middleware((p, a, c, i) => subscribe(p, a, c, i ?? info), parent, args, ctx, info);
  }
  return schema;
}
