// What each rule kind decides, from the viewer, the parent object and the arguments: true or a
// typed error, never a throw (a policy's throw is caught here and becomes a denial). shield.ts
// compiles these into graphql-shield rules and the fast path.
import { epochSeconds } from "../clock.js";
import {
  ForbiddenError,
  InsufficientUserAuthenticationError,
  UnauthenticatedError,
} from "../errors/app-error.js";
import {
  missingScopes,
  type OwnerRule,
  type Policies,
  type PolicyRule,
  type ScopeRequirement,
  type StepUpPolicy,
  type StepUpRule,
  satisfies,
} from "./field-rule.js";
import type { RuleViewer } from "./rule-viewer.js";

export type RuleResult = true | Error;

/** Rules read only what the permission layer needs from the request context. */
export interface RuleContext {
  readonly viewer: RuleViewer | null;
  /** Absent: every step-up rule refuses (fails closed). */
  readonly stepUp?: StepUpPolicy;
}

export const authenticationRequired = () =>
  new UnauthenticatedError("authentication_required", "Sign in to read this field");

export function decideScopes(viewer: RuleViewer | null, requirement: ScopeRequirement): RuleResult {
  if (!viewer) return authenticationRequired();
  if (satisfies(viewer.scopes, requirement)) return true;
  return new ForbiddenError(missingScopes(viewer.scopes, requirement), "Missing scope");
}

// Accounts that authenticated in this request (AuthPayload.user), per request context. A login
// answer is anonymous, yet the account in it is its own owner (its email is shown to it).
const subjects = new WeakMap<object, WeakSet<object>>();

export function markSubject(context: object, payload: unknown): RuleResult {
  const user = (payload as { user?: unknown }).user;
  if (typeof user === "object" && user !== null) {
    let set = subjects.get(context);
    if (!set) {
      set = new WeakSet();
      subjects.set(context, set);
    }
    set.add(user);
  }
  return true;
}

function isSubject(context: object, value: object): boolean {
  return subjects.get(context)?.has(value) ?? false;
}

export function decideOwner(
  rule: OwnerRule<unknown>,
  parent: unknown,
  viewer: RuleViewer | null,
  context: object,
): RuleResult {
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
export function decideStepUp(rule: StepUpRule, args: unknown, context: RuleContext): RuleResult {
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

/** The refusal of a policy: it names no policy, since which one failed is the module's business. */
export const policyDenied = () => new ForbiddenError([], "Not allowed", "policy_denied");

/**
 * `@policy`: some AND-group whose every policy answers exactly `true`. A policy that throws or
 * answers anything else counts as a refusal; an unknown name (the guard refuses it at build) too.
 */
export function decidePolicy(
  rule: PolicyRule,
  policies: Policies,
  parent: unknown,
  args: unknown,
  context: RuleContext,
): RuleResult {
  const input = {
    viewer: context.viewer,
    parent,
    args: (args ?? {}) as Readonly<Record<string, unknown>>,
    context,
  };
  const allows = (name: string) => {
    const policy = Object.hasOwn(policies, name) ? policies[name] : undefined;
    try {
      return policy !== undefined && policy(input) === true;
    } catch {
      return false;
    }
  };
  return rule.anyOf.some((group) => group.every(allows)) ? true : policyDenied();
}
