// The build-time guard: the schema and the rules must agree before a request is served.
import { type GraphQLSchema, isIntrospectionType, isObjectType } from "graphql";
import type { FieldRule, Policies } from "./field-rule.js";
import type { PermissionMap } from "./permissions.js";
import type { ScopeCatalogue } from "./scope-catalogue.js";

/** Loosely typed view of a permission map, for walking it by name: type → field → rule. */
export type LooseMap = Readonly<Record<string, Readonly<Record<string, FieldRule<unknown>>>>>;

/** Everything the permission layer is built from: the rules, the scopes they may name, the policies. */
export interface PermissionSet {
  readonly map: PermissionMap | LooseMap;
  readonly catalogue: ScopeCatalogue;
  /** The modules' named policies (`@policy`); none when absent. */
  readonly policies?: Policies;
}

/**
 * The schema and the rules disagree: fields nothing decides, rules for missing fields, unknown scopes
 * or policies, a field decided twice. Every problem at once, undecided fields named first.
 */
export class PermissionMapError extends Error {
  /** The `Type.field` names no rule decides (default deny). */
  readonly undecided: readonly string[];
  constructor(readonly problems: readonly string[]) {
    const undecided = problems.flatMap((p) => (p.endsWith(" has no rule") ? [p.slice(0, -12)] : []));
    const others = problems.filter((p) => !p.endsWith(" has no rule"));
    const parts = [
      ...(undecided.length > 0 ? [`Fields with no permission rule: ${undecided.join(", ")}`] : []),
      ...others,
    ];
    super(parts.join("; "));
    this.name = "PermissionMapError";
    this.undecided = undecided;
  }
}

/** Every `Type.field` of the schema's object types, introspection excluded. */
export function schemaFields(schema: GraphQLSchema): string[] {
  const fields: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.keys(type.getFields())) fields.push(`${type.name}.${field}`);
  }
  return fields.sort();
}

/** The names of the schema's root types (Query, Mutation, Subscription). */
export function rootTypeNames(schema: GraphQLSchema): Set<string> {
  return new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) =>
      t ? [t.name] : [],
    ),
  );
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
    case "all":
      return fieldRule.rules.flatMap(scopesOf);
    default:
      return [];
  }
}

/** The policies a rule names. */
export function policiesOf(fieldRule: FieldRule<unknown>): string[] {
  if (fieldRule.kind === "policy") return fieldRule.anyOf.flat();
  if (fieldRule.kind === "all") return fieldRule.rules.flatMap(policiesOf);
  return [];
}

/** True for rules that decide nothing at run time: such fields are left unwrapped. */
export function isOpen(fieldRule: FieldRule<unknown>): boolean {
  return fieldRule.kind === "public" || fieldRule.kind === "parent";
}

/** What is wrong with one rule, wherever it stands. */
function ruleProblems(field: string, fieldRule: FieldRule<unknown>, permissions: PermissionSet): string[] {
  const { catalogue } = permissions;
  const policies = permissions.policies ?? {};
  const problems: string[] = [];
  for (const scope of scopesOf(fieldRule)) {
    if (!catalogue.has(scope)) problems.push(`${field} names unknown scope ${scope}`);
  }
  for (const name of policiesOf(fieldRule)) {
    if (!Object.hasOwn(policies, name)) problems.push(`${field} names unknown policy ${name}`);
  }
  if (
    fieldRule.kind === "admin" &&
    catalogue.has(fieldRule.scope) &&
    !catalogue.isAdminOnly(fieldRule.scope)
  ) {
    problems.push(`${field} is admin-only but ${fieldRule.scope} is granted to other roles`);
  }
  if (fieldRule.kind === "subject" && field !== "AuthPayload.user") {
    problems.push(`${field}: the subject rule belongs to AuthPayload.user only`);
  }
  if (fieldRule.kind === "all") {
    if (fieldRule.rules.length < 2) problems.push(`${field}: an "all" rule needs at least two rules`);
    for (const inner of fieldRule.rules) {
      // Open and marking rules decide nothing: inside an "all" they would only hide a mistake.
      if (isOpen(inner) || inner.kind === "subject") {
        problems.push(`${field}: "${inner.kind}" cannot be combined with other rules`);
      }
    }
  }
  return problems;
}

/**
 * The build-time guard: every schema field has exactly one rule, every rule names a real field,
 * root fields decide explicitly (no `parent`), every scope is in the catalogue and every policy
 * supplied, and admin-only rules name admin-only scopes. Throws one error listing every problem.
 */
export function assertPermissionMap(schema: GraphQLSchema, permissions: PermissionSet): void {
  const loose = permissions.map as LooseMap;
  const problems: string[] = [];
  const inSchema = new Set(schemaFields(schema));
  const roots = rootTypeNames(schema);
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
      problems.push(...ruleProblems(field, fieldRule, permissions));
    }
  }
  if (problems.length > 0) throw new PermissionMapError(problems);
}
