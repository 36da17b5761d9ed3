// Permissions written in the SDL, with Apollo Router's meaning (the outer list ORs, each inner
// list ANDs), read from an executable schema into the same FieldRule descriptors as the
// TypeScript map, so they compile to the same graphql-shield rules and fast path (shield.ts).
import {
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getDirectiveValues,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
} from "graphql";
import { type FieldRule, isOrOfAnd, type StepUpRule } from "./field-rule.js";
import { type LooseMap, rootTypeNames } from "./permission-guard.js";

/**
 * The directives Holdfast declares; a module's SDL uses them without declaring them (prepend this
 * to the type definitions). `@stepUp` is RFC 9470: `maxAge` in seconds (default
 * STEP_UP_MAX_AGE_SECONDS), `acrValues` the accepted `acr` (any when absent).
 */
export const permissionDirectivesSdl = /* GraphQL */ `
"Anyone may read or call this, anonymous callers included."
directive @public on FIELD_DEFINITION | OBJECT | INTERFACE
"Any valid access token."
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE
"Every scope of at least one inner list: [[\\"a\\", \\"b\\"], [\\"c\\"]] is a and b, or c."
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE
"Every policy of at least one inner list, by the names the modules supply."
directive @policy(policies: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE
"An authentication no older than maxAge seconds, with one of acrValues when given (RFC 9470)."
directive @stepUp(maxAge: Int, acrValues: [String!]) on FIELD_DEFINITION | OBJECT | INTERFACE
`;

const NAMES = ["public", "authenticated", "requiresScopes", "policy", "stepUp"] as const;
type DirectiveName = (typeof NAMES)[number];

/** Where directives were written: the nodes of one field, or of a type and its extensions. */
interface Located {
  readonly where: string;
  readonly nodes: readonly { readonly directives?: readonly ConstDirectiveNode[] | undefined }[];
}

/** The rules the SDL decides, and what is wrong with it (every problem, not the first). */
export interface DirectivePermissions {
  /** Fields with permission directives of their own. */
  readonly fieldLevel: LooseMap;
  /** Fields with none of their own, decided by their type's directives (or an interface's). */
  readonly typeLevel: LooseMap;
  readonly problems: readonly string[];
}

/** The permission directives at one location, each as a rule; problems are pushed to `problems`. */
function rulesAt(
  schema: GraphQLSchema,
  located: Located,
  problems: string[],
): Map<DirectiveName, FieldRule<unknown>> {
  const rules = new Map<DirectiveName, FieldRule<unknown>>();
  for (const name of NAMES) {
    const definition = schema.getDirective(name);
    if (!definition) continue;
    const found = located.nodes.flatMap((node) => {
      const values = node.directives?.some((d) => d.name.value === name)
        ? getDirectiveValues(definition, node as never)
        : undefined;
      return values ? [values] : [];
    });
    if (found.length === 0) continue;
    if (found.length > 1) problems.push(`${located.where}: @${name} is given more than once`);
    const rule = ruleOf(name, found[0]!, located.where, problems);
    if (rule) rules.set(name, rule);
  }
  return rules;
}

function ruleOf(
  name: DirectiveName,
  args: Record<string, unknown>,
  where: string,
  problems: string[],
): FieldRule<unknown> | null {
  switch (name) {
    case "public":
      return { kind: "public" };
    case "authenticated":
      return { kind: "authenticated" };
    case "requiresScopes": {
      const anyOf = args.scopes as string[][];
      if (isOrOfAnd(anyOf)) return { kind: "scopes", anyOf };
      problems.push(`${where}: @requiresScopes needs at least one non-empty list of scopes`);
      return null;
    }
    case "policy": {
      const anyOf = args.policies as string[][];
      if (isOrOfAnd(anyOf)) return { kind: "policy", anyOf };
      problems.push(`${where}: @policy needs at least one non-empty list of policies`);
      return null;
    }
    case "stepUp": {
      const maxAge = args.maxAge as number | undefined;
      const acrValues = args.acrValues as string[] | undefined;
      if (maxAge !== undefined && maxAge < 0) problems.push(`${where}: @stepUp maxAge must not be negative`);
      if (acrValues?.length === 0) problems.push(`${where}: @stepUp acrValues must not be empty`);
      // No scope required of its own: one empty AND-group, which every token satisfies.
      return {
        kind: "stepUp",
        anyOf: [[]],
        maxAgeSeconds: maxAge ?? "configured",
        ...(acrValues && acrValues.length > 0 ? { acrValues } : {}),
      } satisfies StepUpRule;
    }
  }
}

/**
 * Several directives on one location AND together. `@requiresScopes` + `@stepUp` is one step-up
 * rule (scopes checked first, as in the TypeScript map); `@authenticated` adds nothing to a rule
 * that already refuses anonymous callers (scopes, step-up); `@public` stands alone.
 */
function combine(
  rules: Map<DirectiveName, FieldRule<unknown>>,
  where: string,
  problems: string[],
): FieldRule<unknown> | undefined {
  if (rules.size === 0) return undefined;
  if (rules.has("public")) {
    if (rules.size > 1)
      problems.push(`${where}: @public cannot be combined with other permission directives`);
    return rules.get("public");
  }
  const scopes = rules.get("requiresScopes");
  const stepUp = rules.get("stepUp") as StepUpRule | undefined;
  const policy = rules.get("policy");
  const core =
    stepUp && scopes?.kind === "scopes"
      ? { ...stepUp, anyOf: scopes.anyOf }
      : (stepUp ?? scopes ?? rules.get("authenticated"));
  const parts = [core, policy].filter((rule) => rule !== undefined);
  return parts.length === 1 ? parts[0] : { kind: "all", rules: parts };
}

function fieldNodes(field: GraphQLField<unknown, unknown>): Located["nodes"] {
  return field.astNode ? [field.astNode] : [];
}

function typeNodes(type: GraphQLObjectType | GraphQLInterfaceType): Located["nodes"] {
  return [...(type.astNode ? [type.astNode] : []), ...type.extensionASTNodes];
}

/**
 * Reads the permission directives of every object type's fields.
 *
 * Where a rule comes from, most specific first:
 * 1. the field's own directives;
 * 2. its object type's directives, written on `type X` or on any `extend type X` (they apply to
 *    every field of X, those added by extensions included);
 * 3. the same field's directives on the interfaces X implements, then those interfaces' type-level
 *    directives (every interface that says something must allow: they AND together).
 * A field with no rule from any of these is left undecided (the guard then names it). Type-level
 * directives on Query, Mutation and Subscription are refused: a module extending a root type would
 * otherwise decide the core's and other modules' root fields.
 */
export function directivePermissions(schema: GraphQLSchema): DirectivePermissions {
  const problems: string[] = [];
  const fieldLevel: Record<string, Record<string, FieldRule<unknown>>> = {};
  const typeLevel: Record<string, Record<string, FieldRule<unknown>>> = {};
  const put = (map: typeof fieldLevel, type: string, field: string, rule: FieldRule<unknown>) => {
    map[type] = { ...map[type], [field]: rule };
  };
  const roots = rootTypeNames(schema);
  const typeRules = new Map<string, FieldRule<unknown> | undefined>();
  const ofType = (type: GraphQLObjectType | GraphQLInterfaceType) => {
    if (!typeRules.has(type.name)) {
      const where = `type ${type.name}`;
      const rule = combine(rulesAt(schema, { where, nodes: typeNodes(type) }, problems), where, problems);
      if (rule && roots.has(type.name)) {
        problems.push(`${where}: a root type takes no permission directive; decide each of its fields`);
      }
      typeRules.set(type.name, roots.has(type.name) ? undefined : rule);
    }
    return typeRules.get(type.name);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInterfaceType(type)) ofType(type);
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const fromType = ofType(type);
    for (const field of Object.values(type.getFields())) {
      const where = `${type.name}.${field.name}`;
      const own = combine(rulesAt(schema, { where, nodes: fieldNodes(field) }, problems), where, problems);
      if (own) {
        put(fieldLevel, type.name, field.name, own);
        continue;
      }
      const inherited = fromType ?? fromInterfaces(schema, type, field.name, problems, ofType);
      if (inherited) put(typeLevel, type.name, field.name, inherited);
    }
  }
  return { fieldLevel, typeLevel, problems: [...new Set(problems)] };
}

function fromInterfaces(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  fieldName: string,
  problems: string[],
  ofType: (type: GraphQLInterfaceType) => FieldRule<unknown> | undefined,
): FieldRule<unknown> | undefined {
  const rules = type.getInterfaces().flatMap((face) => {
    const field = face.getFields()[fieldName];
    if (!field) return [];
    const where = `${face.name}.${fieldName}`;
    const own = combine(rulesAt(schema, { where, nodes: fieldNodes(field) }, problems), where, problems);
    const rule = own ?? ofType(face);
    return rule ? [rule] : [];
  });
  if (rules.length <= 1) return rules[0];
  if (rules.some((r) => r.kind === "public")) {
    problems.push(
      `${type.name}.${fieldName}: its interfaces disagree (one says @public); decide it on the field`,
    );
    return undefined;
  }
  return { kind: "all", rules };
}
