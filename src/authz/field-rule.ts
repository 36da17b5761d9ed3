import type { Clock } from "../clock.js";
import type { RuleViewer } from "./rule-viewer.js";

/**
 * A scope's name. Plain text: the catalogue is built at start from the core and the modules
 * (scope-catalogue.ts), so the build-time guard, not the compiler, refuses an unknown scope.
 */
export type Scope = string;

/**
 * An OR of AND-groups: the caller needs every scope of at least one group
 * (`[["a", "b"], ["c"]]` reads "a and b, or c").
 */
export type ScopeRequirement = readonly (readonly Scope[])[];

/**
 * What the permission map says about one field. A descriptor, not code: the shield layer
 * (shield.ts) compiles it into a graphql-shield rule, and the permission report prints it.
 *
 * - `public`: anyone, anonymous included. Not wrapped at run time.
 * - `parent`: whoever was allowed to reach the parent object may read this field. Not wrapped.
 * - `authenticated`: any valid token, whatever its scopes.
 * - `scopes`: a token satisfying the requirement.
 * - `admin`: a token with a scope that only the admin role can be granted (checked at build time).
 * - `owner`: the parent's owner (holding `ownerNeeds`, if given), or a token satisfying `anyOf`.
 * - `subject`: on AuthPayload.user only: the account that just authenticated counts as its owner.
 * - `stepUp`: a token satisfying `anyOf` whose user authenticated recently enough (and strongly
 *   enough): RFC 9470 step-up, decided from the token's `auth_time` and `acr`.
 * - `policy`: named functions a module supplies, OR of AND-groups like scopes (`@policy`).
 * - `all`: every one of `rules`, in order; the first refusal is the answer (several directives on
 *   one field).
 */
export type FieldRule<Parent = never> =
  | { readonly kind: "public" }
  | { readonly kind: "parent" }
  | { readonly kind: "authenticated" }
  | { readonly kind: "scopes"; readonly anyOf: ScopeRequirement }
  | { readonly kind: "admin"; readonly scope: Scope }
  | OwnerRule<Parent>
  | { readonly kind: "subject" }
  | StepUpRule
  | PolicyRule
  | AllRule<Parent>;

/** `[["a", "b"], ["c"]]`: policies a and b both allow, or c does. */
export interface PolicyRule {
  readonly kind: "policy";
  readonly anyOf: readonly (readonly string[])[];
}

export interface AllRule<Parent> {
  readonly kind: "all";
  readonly rules: readonly FieldRule<Parent>[];
}

/** What a policy reads: the caller, the object the field is read on, the field's arguments, the request context. */
export interface PolicyInput {
  readonly viewer: RuleViewer | null;
  readonly parent: unknown;
  readonly args: Readonly<Record<string, unknown>>;
  readonly context: unknown;
}

/**
 * A module's named authorization decision (`@policy`). Only `true` allows: any other answer, or a
 * throw, denies the field (FORBIDDEN, reason `policy_denied`). Synchronous, like every rule: it
 * decides from what it is given, never by querying.
 */
export type Policy = (input: PolicyInput) => boolean;

/** Policy name → policy, as modules supply them. */
export type Policies = Readonly<Record<string, Policy>>;

/** What a step-up rule reads at run time: the configured window and the injected clock. */
export interface StepUpPolicy {
  /** STEP_UP_MAX_AGE_SECONDS: the window of rules that do not name their own. */
  readonly maxAgeSeconds: number;
  readonly clock: Clock;
}

export interface StepUpRule {
  readonly kind: "stepUp";
  /** Scopes the token needs as well (checked first: re-authenticating cannot add a scope). */
  readonly anyOf: ScopeRequirement;
  /** Most seconds since `auth_time`; `configured` is STEP_UP_MAX_AGE_SECONDS. */
  readonly maxAgeSeconds: number | "configured";
  /** Accepted `acr` values; any when absent. */
  readonly acrValues?: readonly string[];
  /** Why the field needs it, for the permission report (absent for `@stepUp` in SDL). */
  readonly why?: string;
  /** Calls that need no step-up (ending one's own current session), decided from the arguments. */
  readonly unless?: {
    readonly label: string;
    test(args: Readonly<Record<string, unknown>>, viewer: RuleViewer): boolean;
  };
}

export interface OwnerRule<Parent> {
  readonly kind: "owner";
  /** How the report names the owner ("self", "owner"). */
  readonly label: string;
  /** The id of the user who owns the parent object; read from the parent, never from the database. */
  ownerId(parent: Parent): string;
  /** What the owner's token must also carry; nothing when absent. */
  readonly ownerNeeds?: ScopeRequirement;
  /** What lets a token that is not the owner's read the field. */
  readonly anyOf: ScopeRequirement;
}

/** Anyone, anonymous included. */
export const publicField = { kind: "public" } as const satisfies FieldRule;

/** Readable by whoever was allowed to reach the parent object. */
export const parent = { kind: "parent" } as const satisfies FieldRule;

/** Any valid access token. */
export const authenticated = { kind: "authenticated" } as const satisfies FieldRule;

/** AuthPayload.user: the account that just registered, logged in or refreshed is its own owner. */
export const authPayloadSubject = { kind: "subject" } as const satisfies FieldRule;

/** Every scope of at least one group: `hasScope(["a", "b"], ["c"])` is "a and b, or c". */
export function hasScope(...anyOf: (readonly Scope[])[]): Extract<FieldRule, { kind: "scopes" }> {
  if (anyOf.length === 0 || anyOf.some((group) => group.length === 0)) {
    throw new TypeError("hasScope needs at least one non-empty group of scopes");
  }
  return { kind: "scopes", anyOf };
}

/** A scope that only the admin role grants (build fails otherwise). */
export function adminOnly(scope: Scope): Extract<FieldRule, { kind: "admin" }> {
  return { kind: "admin", scope };
}

/** The parent's owner, or a token satisfying `anyOf`. */
export function ownerOr<Parent>(options: {
  label: string;
  ownerId: (parent: Parent) => string;
  ownerNeeds?: ScopeRequirement;
  anyOf: ScopeRequirement;
}): OwnerRule<Parent> {
  const { label, ownerId, ownerNeeds, anyOf } = options;
  if (anyOf.length === 0 || anyOf.some((group) => group.length === 0)) {
    throw new TypeError("ownerOr needs at least one non-empty group of scopes in anyOf");
  }
  return { kind: "owner", label, ownerId, anyOf, ...(ownerNeeds ? { ownerNeeds } : {}) };
}

/**
 * RFC 9470 step-up: the scopes of `anyOf`, and an authentication no older than `maxAgeSeconds`
 * (default STEP_UP_MAX_AGE_SECONDS) and, when given, of one of `acrValues`.
 */
export function recentAuthentication(options: {
  anyOf: ScopeRequirement;
  why: string;
  maxAgeSeconds?: number;
  acrValues?: readonly string[];
  unless?: StepUpRule["unless"];
}): StepUpRule {
  const { anyOf, why, maxAgeSeconds, acrValues, unless } = options;
  if (anyOf.length === 0 || anyOf.some((group) => group.length === 0)) {
    throw new TypeError("recentAuthentication needs at least one non-empty group of scopes");
  }
  if (maxAgeSeconds !== undefined && (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0)) {
    throw new TypeError("maxAgeSeconds must be a whole number of seconds");
  }
  if (acrValues !== undefined && acrValues.length === 0) throw new TypeError("acrValues must not be empty");
  return {
    kind: "stepUp",
    anyOf,
    why,
    maxAgeSeconds: maxAgeSeconds ?? "configured",
    ...(acrValues ? { acrValues } : {}),
    ...(unless ? { unless } : {}),
  };
}

/** Every scope (or policy) of at least one group: rejects an empty requirement or an empty group. */
export function isOrOfAnd(requirement: readonly (readonly string[])[]): boolean {
  return requirement.length > 0 && requirement.every((group) => group.length > 0);
}

/** Policies by name, OR of AND-groups: `hasPolicy(["owner"], ["support"])` is "owner, or support". */
export function hasPolicy(...anyOf: (readonly string[])[]): PolicyRule {
  if (!isOrOfAnd(anyOf)) throw new TypeError("hasPolicy needs at least one non-empty group of policies");
  return { kind: "policy", anyOf };
}

/** Every rule, in order: the first refusal answers. */
export function allOf<Parent>(...rules: FieldRule<Parent>[]): AllRule<Parent> {
  if (rules.length < 2) throw new TypeError("allOf needs at least two rules");
  return { kind: "all", rules };
}

/** True when the scopes satisfy at least one AND-group of the requirement. */
export function satisfies(scopes: ReadonlySet<string>, requirement: ScopeRequirement): boolean {
  for (const group of requirement) {
    let all = true;
    for (const scope of group) {
      if (!scopes.has(scope)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** Each alternative reduced to the scopes the caller still lacks: what a FORBIDDEN error reports. */
export function missingScopes(scopes: ReadonlySet<string>, requirement: ScopeRequirement): string[][] {
  return requirement.map((group) => group.filter((s) => !scopes.has(s)));
}
