import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isAbstractType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import type { FieldRule } from "../authz/field-rule.js";
import type { LooseMap, PermissionSet } from "../authz/permission-guard.js";
import type { FieldExtensions } from "./module-definition.js";

/**
 * What one event's result can depend on besides the document, its variables and the event: the
 * viewer facts two subscribers must share for one rendering to serve both.
 * - `scopes`: whether there is a viewer, and its scopes (every rule and resolver selected reads at
 *   most that);
 * - `user`: the scopes and the user id (an owner rule is selected: `ownerOr` compares the id);
 * - `viewer`: the whole viewer and its connection (a policy, a step-up or subject rule, a resolver
 *   that did not declare itself viewer-independent, an abstract type, an unknown field).
 */
export type RenderSharing = "scopes" | "user" | "viewer";

const LEVEL: Record<RenderSharing, number> = { scopes: 0, user: 1, viewer: 2 };
const widest = (a: RenderSharing, b: RenderSharing) => (LEVEL[a] >= LEVEL[b] ? a : b);

function ruleSharing(rule: FieldRule<unknown> | undefined): RenderSharing {
  switch (rule?.kind) {
    case "public":
    case "parent":
    case "authenticated":
    case "scopes":
    case "admin":
      return "scopes";
    case "owner":
      return "user";
    case "all":
      return rule.rules.map(ruleSharing).reduce(widest, "scopes");
    default:
      // stepUp (auth_time, the clock), policy (a module's function of anything), subject, none.
      return "viewer";
  }
}

/**
 * A field's own resolver may read `context` (the viewer, the client's address) where no rule
 * shows it: only one that declares it does not (FieldExtensions) is shared beyond the viewer.
 * A subscription field's `subscribe` runs once per stream, not per event: only `resolve` counts.
 */
function resolverSharing(field: GraphQLField<unknown, unknown>): RenderSharing {
  if (field.resolve === undefined) return "scopes";
  const declared = (field.extensions as FieldExtensions | undefined)?.holdfast;
  return declared?.viewerIndependent === true ? "scopes" : "viewer";
}

/**
 * For each subscription document, how widely one rendering of an event may be shared (see
 * RenderSharing), from the rules and the resolvers of every field it selects. Reads the schema
 * *before* the permission layer wraps its resolvers, so a field's own resolver can be told from
 * graphql-js's default one.
 */
export function renderSharingOf(
  schema: GraphQLSchema,
  permissions: PermissionSet,
): (document: DocumentNode, operationName?: string | null) => RenderSharing {
  const map = permissions.map as LooseMap;
  const fieldSharing = new Map<string, RenderSharing>();
  const sharingOf = (type: GraphQLNamedType, field: GraphQLField<unknown, unknown>) => {
    const key = `${type.name}.${field.name}`;
    let found = fieldSharing.get(key);
    if (!found) {
      const rule = Object.hasOwn(map, type.name) ? map[type.name]![field.name] : undefined;
      found = widest(ruleSharing(rule), resolverSharing(field));
      fieldSharing.set(key, found);
    }
    return found;
  };

  return (document, operationName) => {
    const operation = getOperationAST(document, operationName);
    const root = schema.getSubscriptionType();
    if (!operation || !root) return "viewer";
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const walk = (set: SelectionSetNode, type: GraphQLNamedType, depth: number): RenderSharing => {
      // Validation bounds depth and refuses fragment cycles; past this, assume the worst.
      if (depth > 64 || !isObjectType(type)) return "viewer";
      let sharing: RenderSharing = "scopes";
      for (const selection of set.selections) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = fragments.get(selection.name.value);
          if (!fragment) return "viewer";
          sharing = widest(sharing, walk(fragment.selectionSet, type, depth + 1));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          sharing = widest(sharing, walk(selection.selectionSet, type, depth + 1));
        } else {
          if (selection.name.value.startsWith("__")) continue;
          const field = type.getFields()[selection.name.value];
          if (!field) return "viewer";
          sharing = widest(sharing, sharingOf(type, field));
          if (selection.selectionSet) {
            const inner = getNamedType(field.type);
            // An interface or union resolves its type with code of its own: not analysed.
            if (isAbstractType(inner)) return "viewer";
            sharing = widest(sharing, walk(selection.selectionSet, inner, depth + 1));
          }
        }
        if (sharing === "viewer") return sharing;
      }
      return sharing;
    };
    return walk(operation.selectionSet, root, 0);
  };
}
