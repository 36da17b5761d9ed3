import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DocumentNode, GraphQLSchema } from "graphql";
import { permissionDirectivesSdl } from "../authz/directives.js";
import type { Policies } from "../authz/field-rule.js";
import type { PermissionSet } from "../authz/permission-guard.js";
import { permissionsFor } from "../authz/permissions-for.js";
import { type ScopeCatalogue, scopeCatalogue } from "../authz/scope-catalogue.js";
import { type AuthorizationMode, applyPermissions } from "../authz/shield.js";
import { executableSchema, ModuleCompositionError } from "./compose-modules.js";
import type { HoldfastModule } from "./module-definition.js";
import { schemaPermissions } from "./permission-coverage.js";
import { type RenderSharing, renderSharingOf } from "./render-sharing.js";
import { resolvers } from "./resolvers/index.js";

const schemaDir = join(dirname(fileURLToPath(import.meta.url)), "schema");

/** The core's SDL files, concatenated in a stable order (base first). */
export function loadTypeDefs(): string {
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".graphql"))
    .sort((a, b) => (a === "base.graphql" ? -1 : b === "base.graphql" ? 1 : a.localeCompare(b)));
  return files.map((f) => readFileSync(join(schemaDir, f), "utf8")).join("\n");
}

/** The core's SDL with the permission directives declared, as modules write against it. */
export function coreTypeDefs(): string {
  return `${permissionDirectivesSdl}\n${loadTypeDefs()}`;
}

export interface BuildSchemaOptions {
  /** Your types, composed with the core's (DESIGN.md, "modules"). */
  readonly modules?: readonly HoldfastModule[];
  /**
   * The permission layer, enforced by default. `none` and `naive` exist for bench/authz.ts only: a
   * code option, never read from the environment.
   */
  readonly authorization?: AuthorizationMode;
}

export interface ComposedSchema {
  readonly schema: GraphQLSchema;
  /** The core's scopes and every module's: login grants, the guard, OAuth metadata. */
  readonly catalogue: ScopeCatalogue;
  /** Every field's rule, from the maps and the directives (what `npm run permissions` prints). */
  readonly permissions: PermissionSet;
  /** How widely one rendering of a subscription's event may be shared (render-sharing.ts). */
  readonly renderSharing: (document: DocumentNode, operationName?: string | null) => RenderSharing;
}

/** Every module's policies under one name space: a name two modules define is an error. */
function mergedPolicies(modules: readonly HoldfastModule[]): Policies {
  const policies: Record<string, Policies[string]> = {};
  const owner = new Map<string, string>();
  const problems: string[] = [];
  for (const module of modules) {
    for (const [name, policy] of Object.entries(module.policies ?? {})) {
      if (owner.has(name))
        problems.push(`policy ${name} is defined by both ${owner.get(name)} and ${module.name}`);
      owner.set(name, module.name);
      policies[name] = policy as Policies[string];
    }
  }
  if (problems.length > 0) throw new ModuleCompositionError(problems);
  return policies;
}

/**
 * The core and the modules composed: one executable schema with the permission layer applied, and
 * the scope catalogue. Throws one error listing every field no rule decides (default deny), and one
 * naming every module problem.
 */
export function composeSchema(options: BuildSchemaOptions = {}): ComposedSchema {
  const modules = options.modules ?? [];
  const catalogue = scopeCatalogue(modules.map((m) => ({ name: m.name, scopes: m.scopes ?? {} })));
  const schema = executableSchema(coreTypeDefs(), resolvers, modules);
  const permissions = permissionsFor(schema, {
    maps: [schemaPermissions, ...modules.flatMap((m) => (m.permissions ? [m.permissions as never] : []))],
    policies: mergedPolicies(modules),
    catalogue,
  });
  return {
    schema: applyPermissions(schema, permissions, options.authorization ?? "enforced"),
    catalogue,
    permissions,
    // From the schema before the permission layer wraps its resolvers (own resolvers stay visible).
    renderSharing: renderSharingOf(schema, permissions),
  };
}

/** The composed schema alone (scripts, tests). */
export function buildSchema(options: BuildSchemaOptions = {}): GraphQLSchema {
  return composeSchema(options).schema;
}
