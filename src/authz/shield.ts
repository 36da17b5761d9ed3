// The only file that imports graphql-shield. Its defaults are unsafe for us (fallbackRule allow,
// external errors swallowed, random rule names), so every option is set here, once.
import { createRequire } from "node:module";
import { type GraphQLSchema, isIntrospectionType, isObjectType } from "graphql";
import type { IMiddlewareFieldMap, IMiddlewareFunction, IMiddlewareTypeMap } from "graphql-middleware";
import type { or } from "graphql-shield";
import { epochSeconds } from "../clock.js";
import {
  ForbiddenError,
  InsufficientUserAuthenticationError,
  UnauthenticatedError,
} from "../errors/app-error.js";
import {
  type FieldRule,
  missingScopes,
  type OwnerRule,
  type ScopeRequirement,
  type StepUpPolicy,
  type StepUpRule,
  satisfies,
} from "./field-rule.js";
import type { PermissionMap } from "./permissions.js";
import type { RuleViewer } from "./rule-viewer.js";
import { isAdminOnlyScope, isScope } from "./scopes.js";

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
type RuleResult = true | Error;

/**
 * How buildSchema applies the permission map.
 * - `enforced`: the map; only fields with a real decision are wrapped. The only production mode.
 * - `naive`: the same rules with graphql-shield wrapping every field (bench/authz.ts reference).
 * - `none`: no authorization at all (bench/authz.ts baseline).
 */
export type AuthorizationMode = "enforced" | "naive" | "none";

/** Rules read only what the permission layer needs from the request context. */
interface RuleContext {
  readonly viewer: RuleViewer | null;
  /** Absent: every step-up rule refuses (fails closed). */
  readonly stepUp?: StepUpPolicy;
}

/** The schema and the permission map disagree: a field without a rule, or a rule without a field. */
export class PermissionMapError extends Error {
  constructor(
    readonly problems: readonly string[],
    message = `Permission map does not match the schema: ${problems.join("; ")}`,
  ) {
    super(message);
    this.name = "PermissionMapError";
  }
}

/** Loosely typed view of the map, for walking it by name. */
type LooseMap = Readonly<Record<string, Readonly<Record<string, FieldRule<unknown>>>>>;

/** Every `Type.field` of the schema's object types, introspection excluded. */
export function schemaFields(schema: GraphQLSchema): string[] {
  const fields: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.keys(type.getFields())) fields.push(`${type.name}.${field}`);
  }
  return fields.sort();
}

/**
 * The build-time guard: every schema field has exactly one rule, every rule names a real field,
 * root fields decide explicitly (no `parent`), and admin-only rules name admin-only scopes.
 */
export function assertPermissionMap(schema: GraphQLSchema, map: PermissionMap | LooseMap): void {
  const loose = map as LooseMap;
  const problems: string[] = [];
  const inSchema = new Set(schemaFields(schema));
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) =>
      t ? [t.name] : [],
    ),
  );
  for (const field of inSchema) {
    const [type, name] = field.split(".") as [string, string];
    if (!Object.hasOwn(loose, type) || !Object.hasOwn(loose[type]!, name)) {
      problems.push(`${field} has no rule`);
    }
  }
  for (const [type, fields] of Object.entries(loose)) {
    for (const [name, fieldRule] of Object.entries(fields)) {
      const field = `${type}.${name}`;
      if (!inSchema.has(field)) problems.push(`${field} has a rule but is not in the schema`);
      if (fieldRule.kind === "parent" && roots.has(type)) {
        problems.push(`${field} is a root field: its rule cannot be "parent"`);
      }
      for (const scope of scopesOf(fieldRule)) {
        if (!isScope(scope)) problems.push(`${field} names unknown scope ${scope}`);
      }
      if (fieldRule.kind === "admin" && isScope(fieldRule.scope) && !isAdminOnlyScope(fieldRule.scope)) {
        problems.push(`${field} is admin-only but ${fieldRule.scope} is granted to other roles`);
      }
      if (fieldRule.kind === "subject" && field !== "AuthPayload.user") {
        problems.push(`${field}: the subject rule belongs to AuthPayload.user only`);
      }
    }
  }
  if (problems.length > 0) throw new PermissionMapError(problems);
}

/** The scopes a rule mentions, for the guard and the report. */
export function scopesOf(fieldRule: FieldRule<unknown>): string[] {
  switch (fieldRule.kind) {
    case "scopes":
      return fieldRule.anyOf.flat();
    case "admin":
      return [fieldRule.scope];
    case "owner":
      return [...(fieldRule.ownerNeeds ?? []).flat(), ...fieldRule.anyOf.flat()];
    case "stepUp":
      return fieldRule.anyOf.flat();
    default:
      return [];
  }
}

/** True for rules that decide nothing at run time: such fields are left unwrapped. */
export function isOpen(fieldRule: FieldRule<unknown>): boolean {
  return fieldRule.kind === "public" || fieldRule.kind === "parent";
}

// --- decisions (return true or a typed error; never throw) ---

const authenticationRequired = () =>
  new UnauthenticatedError("authentication_required", "Sign in to read this field");

function decideScopes(viewer: RuleViewer | null, requirement: ScopeRequirement): RuleResult {
  if (!viewer) return authenticationRequired();
  if (satisfies(viewer.scopes, requirement)) return true;
  return new ForbiddenError(missingScopes(viewer.scopes, requirement), "Missing scope");
}

// Accounts that authenticated in this request (AuthPayload.user), per request context. A login
// answer is anonymous, yet the account in it is its own owner (its email is shown to it).
const subjects = new WeakMap<object, WeakSet<object>>();

function isSubject(context: object, value: object): boolean {
  return subjects.get(context)?.has(value) ?? false;
}

function decideOwner(rule: OwnerRule<unknown>, parent: unknown, viewer: RuleViewer | null, context: object) {
  const owns =
    (viewer !== null && viewer.userId === rule.ownerId(parent)) ||
    (typeof parent === "object" && parent !== null && isSubject(context, parent));
  if (owns && (rule.ownerNeeds === undefined || (viewer && satisfies(viewer.scopes, rule.ownerNeeds)))) {
    return true;
  }
  if (!viewer) return authenticationRequired();
  if (satisfies(viewer.scopes, rule.anyOf)) return true;
  const alternatives = owns ? [...(rule.ownerNeeds ?? []), ...rule.anyOf] : rule.anyOf;
  return new ForbiddenError(missingScopes(viewer.scopes, alternatives), "Missing scope");
}

/**
 * RFC 9470: scopes first (a new authentication cannot add one, so FORBIDDEN), then the token's
 * `auth_time` against the window and its `acr` against the accepted values. A token without those
 * claims never passes. The refusal names what would pass, for the client's re-authentication.
 */
function decideStepUp(rule: StepUpRule, args: unknown, context: RuleContext): RuleResult {
  const { viewer, stepUp } = context;
  if (!viewer) return authenticationRequired();
  if (!satisfies(viewer.scopes, rule.anyOf)) {
    return new ForbiddenError(missingScopes(viewer.scopes, rule.anyOf), "Missing scope");
  }
  if (rule.unless?.test((args ?? {}) as Record<string, unknown>, viewer)) return true;
  const maxAge = rule.maxAgeSeconds === "configured" ? stepUp?.maxAgeSeconds : rule.maxAgeSeconds;
  const requirement = {
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(rule.acrValues ? { acrValues: rule.acrValues } : {}),
  };
  const authentication = viewer.authentication;
  if (!stepUp || maxAge === undefined || authentication === null) {
    return new InsufficientUserAuthenticationError(requirement);
  }
  const age = epochSeconds(stepUp.clock.now()) - authentication.authTime;
  const recent = age <= maxAge;
  const strong = rule.acrValues === undefined || rule.acrValues.includes(authentication.acr);
  return recent && strong ? true : new InsufficientUserAuthenticationError(requirement);
}

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
function compiler() {
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

  return (fieldRule: FieldRule<unknown>, field: string): CompiledRule | null => {
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
      // Records the payload's account as owner of itself for the rest of this request.
      case "subject":
        return once("subject", "no_cache", (payload, _a, ctx) => {
          const user = (payload as { user?: unknown }).user;
          if (typeof user === "object" && user !== null) {
            let set = subjects.get(ctx);
            if (!set) {
              set = new WeakSet();
              subjects.set(ctx, set);
            }
            set.add(user);
          }
          return true;
        });
    }
  };
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
function compileMap(map: PermissionMap | LooseMap) {
  const compile = compiler();
  const tree: Record<string, Record<string, ShieldRule>> = {};
  const decided = new Map<string, CompiledRule>();
  for (const [type, fields] of Object.entries(map as LooseMap)) {
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
export function ruleTree(map: PermissionMap | LooseMap): Record<string, Record<string, ShieldRule>> {
  return compileMap(map).tree;
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
export function decidedMiddleware(schema: GraphQLSchema, map: PermissionMap | LooseMap): IMiddlewareTypeMap {
  const loose = map as LooseMap;
  const { tree, decided } = compileMap(map);
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

/** Applies the permission map to an executable schema; `enforced` checks the map first. */
export function applyPermissions(
  schema: GraphQLSchema,
  map: PermissionMap | LooseMap,
  mode: AuthorizationMode = "enforced",
): GraphQLSchema {
  switch (mode) {
    case "none":
      return schema;
    case "naive":
      assertPermissionMap(schema, map);
      return applyMiddleware(schema, shield(ruleTree(map), shieldOptions));
    case "enforced":
      assertPermissionMap(schema, map);
      return guardSubscriptionStarts(applyMiddleware(schema, decidedMiddleware(schema, map)), map);
  }
}

/**
 * graphql-middleware wraps a subscription field's `resolve` (run for every event) and leaves its
 * `subscribe` alone, so a caller without the scope could open a stream and be refused event by
 * event. The field's own rule, on the same fast path, also guards the start of the stream.
 */
function guardSubscriptionStarts(schema: GraphQLSchema, map: PermissionMap | LooseMap): GraphQLSchema {
  const { decided } = compileMap(map);
  const type = schema.getSubscriptionType();
  if (!type) return schema;
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
