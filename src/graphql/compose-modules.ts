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
 * The core defines Query, Mutation and Subscription, and modules extend them. A root type no module
 * extends with a field is left out (GraphQL forbids an empty type), so a server without
 * subscriptions has no Subscription type.
 */
export function withoutEmptyRootTypes(document: DocumentNode): DocumentNode {
  const fieldsOf = new Map<string, number>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const name = definition.name.value;
      fieldsOf.set(name, (fieldsOf.get(name) ?? 0) + (definition.fields?.length ?? 0));
    }
  }
  const empty = new Set(
    ["Subscription", "Mutation"].filter((name) => fieldsOf.has(name) && fieldsOf.get(name) === 0),
  );
  if (empty.size === 0) return document;
  return {
    ...document,
    definitions: document.definitions.filter(
      (d) =>
        !(
          (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) &&
          empty.has(d.name.value)
        ),
    ),
  };
}

/** The executable schema of the core SDL and every module's, before permissions. */
export function executableSchema(
  coreTypeDefs: string,
  coreResolvers: Readonly<Record<string, unknown>>,
  modules: readonly HoldfastModule[],
): GraphQLSchema {
  const moduleDocuments = checkModules(modules);
  const core = parse(coreTypeDefs);
  const document: DocumentNode = withoutEmptyRootTypes({
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
