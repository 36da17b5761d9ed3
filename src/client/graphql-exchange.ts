import { type GraphQLErrorLike, HoldfastClientError } from "./holdfast-client-error.js";

// One request/response with the GraphQL endpoint, and how the client reads a response's failure.

export interface Operation {
  readonly query: string;
  readonly operationName?: string | undefined;
  readonly variables?: unknown;
}

export interface GraphQLResponseBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLErrorLike[];
}

export interface Exchange {
  readonly status: number;
  readonly headers: Headers;
  readonly body: GraphQLResponseBody | null;
  readonly receivedAtMs: number;
}

export function parseBody(text: string): GraphQLResponseBody | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as GraphQLResponseBody) : null;
  } catch {
    return null;
  }
}

/** The authentication failure in a response, from the GraphQL body or else `WWW-Authenticate`. */
export function failureOf(exchange: Exchange): { code: string; reason: string | undefined } | null {
  const errors = exchange.body?.errors ?? [];
  const unauthenticated = errors.find((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (unauthenticated) return { code: "UNAUTHENTICATED", reason: unauthenticated.extensions?.reason };
  if (exchange.status === 401) {
    // RFC 6750 §3 / RFC 9449 §7.1: `error="..."` in the challenge.
    const challenge = exchange.headers.get("www-authenticate") ?? "";
    return { code: "UNAUTHENTICATED", reason: /\berror="([^"]*)"/.exec(challenge)?.[1] };
  }
  return null;
}

export function errorOf(exchange: Exchange): HoldfastClientError {
  const errors = exchange.body?.errors ?? [];
  const first = errors.find((e) => e.extensions?.code === "UNAUTHENTICATED") ?? errors[0];
  const auth = failureOf(exchange);
  const code =
    first?.extensions?.code ?? auth?.code ?? (exchange.body ? "BAD_RESPONSE" : httpCode(exchange.status));
  const retryable =
    exchange.status >= 500 ||
    exchange.status === 429 ||
    code === "SERVICE_UNAVAILABLE" ||
    code === "TOO_MANY_REQUESTS";
  return new HoldfastClientError(code, first?.message ?? `The server answered HTTP ${exchange.status}`, {
    reason: first?.extensions?.reason ?? auth?.reason,
    status: exchange.status,
    retryable,
    errors,
    data: exchange.body?.data ?? undefined,
  });
}

function httpCode(status: number): string {
  if (status === 503) return "SERVICE_UNAVAILABLE";
  if (status === 429) return "TOO_MANY_REQUESTS";
  if (status === 401) return "UNAUTHENTICATED";
  return "BAD_RESPONSE";
}
