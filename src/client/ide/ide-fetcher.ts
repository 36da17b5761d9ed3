import { createGraphiQLFetcher, type Fetcher, type FetcherOpts, type FetcherParams } from "@graphiql/toolkit";
import { type ExecutionResult, getOperationAST, parse } from "graphql";
import type { HoldfastClient } from "../client-types.js";
import { type GraphQLErrorLike, HoldfastClientError } from "../holdfast-client-error.js";

// The IDE's two ways of sending an operation. Signed: through the SDK's client, which adds the
// session's access token and a DPoP proof from the page's non-extractable key, refreshes when the
// token is due, and renews a live subscription in band — the page never holds a token. Unsigned (the
// toggle): GraphiQL's stock fetcher with plain fetch and no credentials, to show the same operation refused.

/** How a running subscription ended, for the page's status line. */
export type StreamEnd = { readonly kind: "complete" } | { readonly kind: "error"; readonly code: string };

export interface IdeFetcherOptions {
  readonly client: HoldfastClient;
  /** The GraphQL endpoint (absolute). */
  readonly endpoint: string;
  /** Read at each operation: true sends it through the SDK (signed), false without any credential. */
  readonly signed: () => boolean;
  /** Told when a subscription starts and ends (signed or not). */
  readonly onStream?: (event: { readonly started: true } | { readonly ended: StreamEnd }) => void;
}

export function ideFetcher(options: IdeFetcherOptions): Fetcher {
  const unsigned = createGraphiQLFetcher({
    url: options.endpoint,
    subscriptionUrl: options.endpoint.replace(/^http/, "ws"),
    // No cookie either: the refresh cookie is the session's, and this mode shows a caller without it.
    fetch: (input, init) => fetch(input, { ...init, credentials: "omit" }),
  });
  return (params, opts) => {
    const subscription = isSubscription(params, opts);
    if (!options.signed()) {
      if (!subscription) return unsigned(params, opts);
      return watched(unsignedStream(unsigned, params, opts), options.onStream);
    }
    if (subscription) return watched(signedStream(options.client, params), options.onStream);
    return signedRequest(options.client, params);
  };
}

function isSubscription(params: FetcherParams, opts: FetcherOpts | undefined): boolean {
  try {
    const document = opts?.documentAST ?? parse(params.query);
    return getOperationAST(document, params.operationName ?? undefined)?.operation === "subscription";
  } catch {
    return false;
  }
}

function documentOf(params: FetcherParams) {
  return { query: params.query, ...(params.operationName ? { operationName: params.operationName } : {}) };
}

/**
 * A partial answer resolves `{ data, errors }`; an answer without data throws: the IDE shows both
 * as the server gave them.
 */
async function signedRequest(client: HoldfastClient, params: FetcherParams): Promise<ExecutionResult> {
  try {
    const { data, errors } = await client.request<Record<string, unknown>, Record<string, unknown>>(
      documentOf(params),
      (params.variables ?? {}) as Record<string, unknown>,
    );
    return errors && errors.length > 0 ? { data, errors: errors as never } : { data };
  } catch (error) {
    return errorResult(error);
  }
}

function errorResult(error: unknown): ExecutionResult {
  if (error instanceof HoldfastClientError) {
    const errors = error.errors.length > 0 ? error.errors : [clientError(error)];
    return { data: (error.data as Record<string, unknown> | undefined) ?? null, errors: errors as never };
  }
  return { errors: [{ message: String(error) }] as never };
}

function clientError(error: HoldfastClientError): GraphQLErrorLike {
  return {
    message: error.message,
    extensions: { code: error.code, ...(error.reason ? { reason: error.reason } : {}) },
  };
}

/** A push-to-pull queue: the SDK's callbacks on one side, GraphiQL's `for await` on the other. */
function signedStream(client: HoldfastClient, params: FetcherParams): AsyncIterableIterator<ExecutionResult> {
  const queue: ExecutionResult[] = [];
  let done = false;
  let wake: (() => void) | null = null;
  const push = (result: ExecutionResult | null) => {
    if (result) queue.push(result);
    else done = true;
    wake?.();
    wake = null;
  };
  const stop = client.subscribe<Record<string, unknown>, Record<string, unknown>>(documentOf(params), {
    variables: (params.variables ?? {}) as Record<string, unknown>,
    next: (event) => push({ data: event.data, ...(event.errors ? { errors: event.errors as never } : {}) }),
    error: (error) => {
      push(errorResult(error));
      push(null);
    },
    complete: () => push(null),
  });
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
      const value = queue.shift();
      return value ? { value, done: false } : { value: undefined, done: true };
    },
    async return() {
      stop();
      push(null);
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

async function* unsignedStream(
  unsigned: Fetcher,
  params: FetcherParams,
  opts: FetcherOpts | undefined,
): AsyncGenerator<ExecutionResult> {
  const result = await unsigned(params, opts);
  if (result && typeof result === "object" && Symbol.asyncIterator in result)
    yield* result as AsyncIterable<ExecutionResult>;
  else yield result as ExecutionResult;
}

/**
 * Reports start and end of a stream, and how it ended: the last result's first error code (SESSION_LOST
 * on logout, UNAUTHENTICATED unsigned) or a plain completion.
 */
async function* watched(
  stream: AsyncIterable<ExecutionResult>,
  onStream: IdeFetcherOptions["onStream"],
): AsyncGenerator<ExecutionResult> {
  onStream?.({ started: true });
  let end: StreamEnd = { kind: "complete" };
  try {
    for await (const result of stream) {
      const code = result.errors?.[0]?.extensions?.code;
      if (typeof code === "string" && !result.data) end = { kind: "error", code };
      yield result;
    }
  } catch (error) {
    end = { kind: "error", code: error instanceof HoldfastClientError ? error.code : "NETWORK_ERROR" };
    yield errorResult(error);
  } finally {
    onStream?.({ ended: end });
  }
}
