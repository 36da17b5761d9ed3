// One operation per field of the schema, generated from it: the shortest path from a root to the
// field's parent type, with required arguments filled in. The fast-path comparison and its
// coverage check are built on this, so a field added to the SDL is compared without a new test.
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";

export interface FieldOperation {
  /** `Type.field` */
  readonly field: string;
  readonly operation: "query" | "mutation";
  readonly document: string;
  /** The response path of the field's parent object (`[]` for a root field; list items as index 0). */
  readonly parentPath: readonly (string | number)[];
  /** The response path of the field itself (list items as index 0). */
  readonly path: readonly (string | number)[];
  /** Values of custom-scalar arguments (JSON and the like), which may not be written as literals. */
  readonly variables: Record<string, unknown>;
}

/** Variables a document needs: custom scalars are passed as variables, never literals. */
class Variables {
  readonly definitions: string[] = [];
  readonly values: Record<string, unknown> = {};
  add(type: string, value: unknown): string {
    const name = `v${this.definitions.length}`;
    this.definitions.push(`$${name}: ${type}`);
    this.values[name] = value;
    return `$${name}`;
  }
}

let variables = new Variables();

/** Chooses an ID argument's value by the type the field returns (a fixture of that type), else `fallback`. */
export type IdFor = (returnType: string) => string | undefined;

interface Step {
  readonly name: string;
  readonly args: string;
  readonly list: boolean;
}

function literal(type: GraphQLInputType, name: string, idFor: IdFor, returnType: string): string {
  if (isNonNullType(type)) return literal(type.ofType, name, idFor, returnType);
  if (isListType(type)) return `[${literal(type.ofType, name, idFor, returnType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, f.name, idFor, returnType)}`).join(", ")} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case "ID":
        return JSON.stringify(idFor(returnType) ?? "unknown-id");
      case "Int":
        return "1";
      case "Float":
        return "1.5";
      case "Boolean":
        return "true";
      case "DateTime":
        return JSON.stringify("2030-01-01T00:00:00.000Z");
      case "String":
        return JSON.stringify(`${name}-value`);
      default:
        return variables.add(`${type.name}!`, { [name]: "value" });
    }
  }
  throw new Error(`no literal for argument ${name}`);
}

function argsOf(field: GraphQLField<unknown, unknown>, idFor: IdFor): string {
  const returnType = getNamedType(field.type).name;
  const required = field.args.filter(
    (a: GraphQLArgument) => isNonNullType(a.type) && a.defaultValue === undefined,
  );
  if (required.length === 0) return "";
  return `(${required.map((a) => `${a.name}: ${literal(a.type, a.name, idFor, returnType)}`).join(", ")})`;
}

function isList(field: GraphQLField<unknown, unknown>): boolean {
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  return isListType(type);
}

/**
 * Shortest paths from `root` to every object type. Among fields of equal depth, those that take an
 * `id` reach one fixture object (`note(id:)`, `user(id:)`) and are preferred, so ownership is known.
 */
function pathsFrom(root: GraphQLObjectType, idFor: IdFor): Map<string, Step[]> {
  const paths = new Map<string, Step[]>([[root.name, []]]);
  let frontier = [root];
  while (frontier.length > 0) {
    const next: GraphQLObjectType[] = [];
    for (const type of frontier) {
      const fields = Object.values(type.getFields()).sort(
        (a, b) => Number(b.args.some((x) => x.name === "id")) - Number(a.args.some((x) => x.name === "id")),
      );
      for (const field of fields) {
        const target = getNamedType(field.type);
        if (!isObjectType(target) || paths.has(target.name)) continue;
        paths.set(target.name, [
          ...paths.get(type.name)!,
          { name: field.name, args: argsOf(field, idFor), list: isList(field) },
        ]);
        next.push(target);
      }
    }
    frontier = next;
  }
  return paths;
}

/**
 * Every `Type.field` of the schema's object types (introspection aside) that a query or a mutation
 * reaches, each with an operation reaching it. Fields reached only through a subscription are left
 * out: `execute` cannot run them, so the caller must account for them by name.
 */
export function fieldOperations(schema: GraphQLSchema, idFor: IdFor): FieldOperation[] {
  const roots = [
    ["query", schema.getQueryType()],
    ["mutation", schema.getMutationType()],
  ] as const;
  const reach = roots.flatMap(([operation, root]) =>
    root ? [{ operation, paths: pathsFrom(root, idFor) }] : [],
  );
  const operations: FieldOperation[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    const found = reach.find((r) => r.paths.has(type.name));
    // Reached only through a subscription (or not at all): the caller decides what covers those.
    if (!found) continue;
    const steps = found.paths.get(type.name)!;
    for (const field of Object.values(type.getFields())) {
      variables = new Variables();
      const selection = isObjectType(getNamedType(field.type)) ? " { __typename }" : "";
      let body = `${field.name}${argsOf(field, idFor)}${selection}`;
      for (const step of [...steps].reverse()) body = `${step.name}${step.args} { ${body} }`;
      const parentPath = steps.flatMap((s): (string | number)[] => (s.list ? [s.name, 0] : [s.name]));
      operations.push({
        field: `${type.name}.${field.name}`,
        operation: found.operation,
        document: `${found.operation}${variables.definitions.length ? `(${variables.definitions.join(", ")})` : ""} { ${body} }`,
        variables: variables.values,
        parentPath,
        path: [...parentPath, field.name],
      });
    }
  }
  return operations.sort((a, b) => a.field.localeCompare(b.field));
}
