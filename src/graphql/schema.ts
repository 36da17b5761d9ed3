import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GraphQLSchema } from "graphql";
import { type AuthorizationMode, applyPermissions } from "../authz/shield.js";
import { executableSchema, ModuleCompositionError } from "./compose-modules.js";
import type { HoldfastModule } from "./module-definition.js";
import { schemaPermissions } from "./permission-coverage.js";
import { resolvers } from "./resolvers/index.js";

const schemaDir = join(dirname(fileURLToPath(import.meta.url)), "schema");

/** The core's SDL files, concatenated in a stable order (base first). */
export function loadTypeDefs(): string {
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".graphql"))
    .sort((a, b) => (a === "base.graphql" ? -1 : b === "base.graphql" ? 1 : a.localeCompare(b)));
  return files.map((f) => readFileSync(join(schemaDir, f), "utf8")).join("\n");
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

/**
 * The executable schema, core and modules, with the permission layer applied. Throws one error
 * listing every field no rule decides (default deny), and one naming every module problem.
 */
export function buildSchema(options: BuildSchemaOptions = {}): GraphQLSchema {
  const modules = options.modules ?? [];
  const schema = executableSchema(loadTypeDefs(), resolvers, modules);
  const map: Record<string, Record<string, unknown>> = {};
  const problems: string[] = [];
  for (const [source, rules] of [
    ["core", schemaPermissions],
    ...modules.flatMap((m) => (m.permissions ? [[`module ${m.name}`, m.permissions] as const] : [])),
  ] as const) {
    for (const [type, fields] of Object.entries(rules as Record<string, Record<string, unknown>>)) {
      map[type] ??= {};
      const into = map[type];
      for (const [field, rule] of Object.entries(fields)) {
        if (Object.hasOwn(into, field)) problems.push(`${source}: ${type}.${field} already has a rule`);
        into[field] = rule;
      }
    }
  }
  if (problems.length > 0) throw new ModuleCompositionError(problems);
  return applyPermissions(schema, map as never, options.authorization ?? "enforced");
}
