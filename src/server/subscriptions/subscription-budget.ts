import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isCompositeType,
  Kind,
  type SelectionSetNode,
  valueFromAST,
} from "graphql";

/** Arguments read as "this many items" (Relay pagination and its look-alikes). */
const PAGE_ARGUMENTS = new Set(["first", "last", "limit"]);

/**
 * What one event of this subscription may cost to render and send: every field counts 1, and a
 * field with a page size (`first`, `last`, `limit`: literal, variable or schema default) multiplies
 * what it selects by that size. graphql-armor's cost limit bounds one document; this estimate is
 * summed over a connection's and a user's subscriptions (issue 27: a hundred subscriptions, each
 * within the limit, that select a hundred notes each, made one note written cost 10 MB).
 */
export function subscriptionCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined | null,
  variables: Record<string, unknown> | undefined | null,
): number {
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  if (!operation || !root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk = (set: SelectionSetNode, type: GraphQLNamedType, depth: number): number => {
    // Validation already bounds depth and refuses fragment cycles; this is belt and braces.
    if (depth > 64) return Number.POSITIVE_INFINITY;
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const on = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && on) cost += walk(fragment.selectionSet, on, depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (on) cost += walk(selection.selectionSet, on, depth + 1);
      } else {
        const field = fieldOf(type, selection.name.value);
        cost += 1;
        if (!field || !selection.selectionSet) continue;
        const inner = getNamedType(field.type);
        if (!isCompositeType(inner)) continue;
        cost +=
          pageSize(field, selection.arguments ?? [], variables) *
          walk(selection.selectionSet, inner, depth + 1);
      }
    }
    return cost;
  };
  return walk(operation.selectionSet, root, 0);
}

function fieldOf(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | null {
  const fields = (type as { getFields?: () => Record<string, GraphQLField<unknown, unknown>> }).getFields?.();
  return fields?.[name] ?? null;
}

function pageSize(
  field: GraphQLField<unknown, unknown>,
  given: readonly { name: { value: string }; value: Parameters<typeof valueFromAST>[0] }[],
  variables: Record<string, unknown> | undefined | null,
): number {
  let size = 1;
  for (const argument of field.args) {
    if (!PAGE_ARGUMENTS.has(argument.name)) continue;
    const node = given.find((a) => a.name.value === argument.name);
    const value = node
      ? valueFromAST(node.value, argument.type, variables ?? undefined)
      : argument.defaultValue;
    if (typeof value === "number" && Number.isFinite(value) && value > size) size = Math.floor(value);
  }
  return size;
}

/**
 * Bounds the bytes one event renders into on one connection. `send` sees graphql-ws's messages as
 * strings (`{"id":…,"type":"next","payload":…}`); the subscription's id names the event it carries
 * (`eventOf`, recorded as the result is made). Past the bound, that message is replaced by an error
 * for that subscription: the client learns what it missed, and the subscription goes on.
 */
export class EventByteBudget {
  private readonly spent = new WeakMap<object, number>();
  private readonly current = new Map<string, object>();

  constructor(private readonly maxBytes: number) {}

  /** The event whose result subscription `id` sends next. */
  sending(id: string, event: unknown): void {
    if (typeof event === "object" && event !== null) this.current.set(id, event);
  }

  /** The message to send in place of `data`: itself, or the error that replaces it. */
  bound(data: string): string {
    if (!data.startsWith('{"id":')) return data;
    // Cheap first: a UTF-8 string is at most three bytes per UTF-16 unit.
    const bytes = data.length * 3 <= this.maxBytes ? data.length : Buffer.byteLength(data);
    const end = data.indexOf('","type":');
    if (end < 0 || !data.startsWith('"type":"next"', end + 2)) return data;
    const id = idOf(data.slice(6, end + 1));
    if (id === null) return data;
    const event = this.current.get(id);
    const total = (event ? (this.spent.get(event) ?? 0) : 0) + bytes;
    if (total <= this.maxBytes) {
      if (event) this.spent.set(event, total);
      return data;
    }
    return JSON.stringify({
      id,
      type: "next",
      payload: {
        data: null,
        errors: [
          {
            message: `This event would send more than ${this.maxBytes} bytes on this connection: select less, or subscribe less`,
            extensions: { code: "TOO_MANY_REQUESTS", reason: "event_too_large", maxBytes: this.maxBytes },
          },
        ],
      },
    });
  }

  /** The subscription ended. */
  forget(id: string): void {
    this.current.delete(id);
  }
}

function idOf(quoted: string): string | null {
  try {
    const id: unknown = JSON.parse(quoted);
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}
