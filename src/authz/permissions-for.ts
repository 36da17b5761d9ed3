import type { GraphQLSchema } from "graphql";
import { directivePermissions } from "./directives.js";
import type { FieldRule, Policies } from "./field-rule.js";
import {
  assertPermissionMap,
  type LooseMap,
  PermissionMapError,
  type PermissionSet,
} from "./permission-guard.js";
import type { PermissionMap } from "./permissions.js";
import type { ScopeCatalogue } from "./scope-catalogue.js";

export interface PermissionsForOptions {
  /** TypeScript permission maps (the core's, a module's): each field in at most one of them. */
  readonly maps?: readonly (PermissionMap | LooseMap)[];
  /** Every module's named policies, merged (a name given twice is the caller's error to report). */
  readonly policies?: Policies;
  readonly catalogue: ScopeCatalogue;
}

/**
 * The permissions of a composed schema: the maps' rules and the SDL's directives, merged and
 * checked against the schema at once. A field's own directive and a map rule for the same field
 * is an error (two places deciding one field); a type-level directive decides only the fields
 * that neither a directive of their own nor a map rule decides. Throws one PermissionMapError
 * listing every problem: undecided fields (default deny), unknown scopes or policies, malformed
 * directives, fields decided twice.
 */
export function permissionsFor(schema: GraphQLSchema, options: PermissionsForOptions): PermissionSet {
  const merged: Record<string, Record<string, FieldRule<unknown>>> = {};
  const problems: string[] = [];
  const decided = (type: string, field: string) => Object.hasOwn(merged[type] ?? {}, field);
  const decide = (type: string, field: string, rule: FieldRule<unknown>) => {
    merged[type] = { ...merged[type], [field]: rule };
  };
  for (const map of options.maps ?? []) {
    for (const [type, fields] of Object.entries(map as LooseMap)) {
      for (const [field, rule] of Object.entries(fields)) {
        if (decided(type, field)) problems.push(`${type}.${field} has a rule in two permission maps`);
        else decide(type, field, rule);
      }
    }
  }
  const sdl = directivePermissions(schema);
  problems.push(...sdl.problems);
  for (const [type, fields] of Object.entries(sdl.fieldLevel)) {
    for (const [field, rule] of Object.entries(fields)) {
      if (decided(type, field)) {
        problems.push(`${type}.${field} is decided both by a directive and by a permission map rule`);
      } else decide(type, field, rule);
    }
  }
  for (const [type, fields] of Object.entries(sdl.typeLevel)) {
    for (const [field, rule] of Object.entries(fields)) {
      if (!decided(type, field)) decide(type, field, rule);
    }
  }
  const permissions: PermissionSet = {
    map: merged,
    catalogue: options.catalogue,
    policies: options.policies ?? {},
  };
  try {
    assertPermissionMap(schema, permissions);
  } catch (error) {
    if (!(error instanceof PermissionMapError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new PermissionMapError(problems);
  return permissions;
}
