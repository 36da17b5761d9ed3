/**
 * A GraphQL document that knows its result and variables types. The types are phantom: `__apiType` is
 * never set at run time, it only lets `request(document, variables)` infer both. Same shape as GraphQL
 * Code Generator's `TypedDocumentString` output with `documentMode: "string"`, reduced to a plain object.
 */
export interface TypedDocument<TResult, TVariables = Record<string, never>> {
  readonly query: string;
  readonly operationName?: string;
  readonly __apiType?: (variables: TVariables) => TResult;
}

export type ResultOf<D> = D extends TypedDocument<infer R, infer _V> ? R : never;
export type VariablesOf<D> = D extends TypedDocument<infer _R, infer V> ? V : never;

/** Variables may be left out when the operation has none or only optional ones. */
export type VariablesArgument<TVariables> =
  Record<string, never> extends TVariables ? [variables?: TVariables] : [variables: TVariables];

export function typedDocument<TResult, TVariables = Record<string, never>>(
  operationName: string,
  query: string,
): TypedDocument<TResult, TVariables> {
  return Object.freeze({ operationName, query });
}
