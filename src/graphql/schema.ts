import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import type { ScopeCatalogue } from "../authz/scope-catalogue.js";
import { type AuthorizationMode, applyPermissions } from "../authz/shield.js";
import { defaultScopeCatalogue } from "./default-scope-catalogue.js";
import { schemaPermissions } from "./permission-coverage.js";
import { resolvers } from "./resolvers/index.js";

const schemaDir = join(dirname(fileURLToPath(import.meta.url)), "schema");

/** The SDL modules, concatenated in a stable order (base first). */
export function loadTypeDefs(): string {
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".graphql"))
    .sort((a, b) => (a === "base.graphql" ? -1 : b === "base.graphql" ? 1 : a.localeCompare(b)));
  return files.map((f) => readFileSync(join(schemaDir, f), "utf8")).join("\n");
}

export interface BuildSchemaOptions {
  /**
   * The permission layer (src/authz/permissions.ts), enforced by default. `none` and `naive`
   * exist for bench/authz.ts only: a code option, never read from the environment.
   */
  readonly authorization?: AuthorizationMode;
  /** The scopes rules may name: the core's and the notes module's by default. */
  readonly catalogue?: ScopeCatalogue;
}

/** The executable schema with the permission map applied; throws if a field has no rule. */
export function buildSchema(options: BuildSchemaOptions = {}): GraphQLSchema {
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  return applyPermissions(
    schema,
    { map: schemaPermissions, catalogue: options.catalogue ?? defaultScopeCatalogue },
    options.authorization ?? "enforced",
  );
}
