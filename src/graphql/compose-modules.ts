import { makeExecutableSchema } from "@graphql-tools/schema";
import { type DocumentNode, GraphQLError, type GraphQLSchema, Kind, parse } from "graphql";
import type { HoldfastModule } from "./module-definition.js";

/** Modules that cannot be composed: every problem, each naming its module. */
export class ModuleCompositionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Modules cannot be composed:\n  - ${problems.join("\n  - ")}`);
    this.name = "ModuleCompositionError";
  }
}

type ResolverMap = Record<string, unknown>;

/**
 * The core's resolvers with every module's, by type and field. Two owners of one field is an error
 * naming both, never a silent override: upgrading Holdfast must not change which code answers.
 */
export function mergeResolvers(
  core: Readonly<Record<string, unknown>>,
  modules: readonly HoldfastModule[],
): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  const problems: string[] = [];
  const add = (source: string, resolvers: Readonly<Record<string, unknown>>) => {
    for (const [type, value] of Object.entries(resolvers)) {
      const isFieldMap =
        typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
      if (!isFieldMap) {
        // A scalar or an enum: one owner for the whole type.
        if (owner.has(type)) problems.push(`${source}: ${type} is already defined by ${owner.get(type)}`);
        else {
          owner.set(type, source);
          merged[type] = value;
        }
        continue;
      }
      merged[type] ??= {};
      const fields = merged[type] as ResolverMap;
      for (const [field, resolver] of Object.entries(value as ResolverMap)) {
        const key = `${type}.${field}`;
        if (owner.has(key)) problems.push(`${source}: ${key} already has a resolver from ${owner.get(key)}`);
        else {
          owner.set(key, source);
          fields[field] = resolver;
        }
      }
    }
  };
  add("core", core);
  for (const module of modules) if (module.resolvers) add(`module ${module.name}`, module.resolvers);
  if (problems.length > 0) throw new ModuleCompositionError(problems);
  return merged;
}

/** Names are unique, and each module's SDL parses on its own (so an error names its module). */
export function checkModules(modules: readonly HoldfastModule[]): DocumentNode[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const documents: DocumentNode[] = [];
  for (const module of modules) {
    if (seen.has(module.name)) problems.push(`two modules are named ${module.name}`);
    seen.add(module.name);
    try {
      documents.push(parse(module.typeDefs));
    } catch (error) {
      const message = error instanceof GraphQLError ? error.message : String(error);
      problems.push(`module ${module.name}: its typeDefs do not parse: ${message}`);
    }
  }
  if (problems.length > 0) throw new ModuleCompositionError(problems);
  return documents;
}

/**
 * The core defines Query and Mutation; Subscription exists as soon as a module extends it (the
 * core has no subscription of its own, and GraphQL forbids an empty type).
 */
export function withSubscriptionRoot(document: DocumentNode): DocumentNode {
  const has = (kind: Kind) =>
    document.definitions.some((d) => d.kind === kind && "name" in d && d.name?.value === "Subscription");
  if (has(Kind.OBJECT_TYPE_DEFINITION) || !has(Kind.OBJECT_TYPE_EXTENSION)) return document;
  const root = parse(`"""
Live data over WebSocket (\`graphql-transport-ws\` at \`/graphql\`). Authorization follows the token:
the connection closes with 4401 when its session ends or its token expires without renewal.
"""
type Subscription`).definitions;
  return { ...document, definitions: [...root, ...document.definitions] };
}

/** The executable schema of the core SDL and every module's, before permissions. */
export function executableSchema(
  coreTypeDefs: string,
  coreResolvers: Readonly<Record<string, unknown>>,
  modules: readonly HoldfastModule[],
): GraphQLSchema {
  const moduleDocuments = checkModules(modules);
  const core = parse(coreTypeDefs);
  const document: DocumentNode = withSubscriptionRoot({
    kind: Kind.DOCUMENT,
    definitions: [core, ...moduleDocuments].flatMap((d) => d.definitions),
  });
  try {
    return makeExecutableSchema({
      typeDefs: document,
      resolvers: mergeResolvers(coreResolvers, modules) as never,
      // A resolver for a field no SDL declares is a mistake worth stopping for.
      resolverValidationOptions: { requireResolversToMatchSchema: "error" },
    });
  } catch (error) {
    if (error instanceof ModuleCompositionError) throw error;
    throw new ModuleCompositionError([error instanceof Error ? error.message : String(error)]);
  }
}
