/** One GraphQL error as the server sends it. */
export interface GraphQLErrorLike {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly reason?: string; readonly [key: string]: unknown };
}

/**
 * Server codes (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, …) pass
 * through unchanged; the client adds its own for what happens before or around the server.
 */
export type HoldfastClientErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR"
  /** fetch rejected or timed out: nothing (usable) came back. */
  | "NETWORK_ERROR"
  /** The server answered with something that is not a GraphQL response. */
  | "BAD_RESPONSE"
  /** The session ended while this call waited for it (see `reason`). */
  | "SESSION_LOST"
  /** `destroy()` was called. */
  | "CLIENT_DESTROYED"
  | (string & {});

export interface HoldfastClientErrorInit {
  readonly reason?: string | undefined;
  readonly status?: number | undefined;
  readonly retryable?: boolean;
  readonly errors?: readonly GraphQLErrorLike[];
  readonly data?: unknown;
  readonly cause?: unknown;
}

/**
 * Every failure the client reports. Decide on `code` and `reason` (stable, snake_case), never on `message`.
 * Carries no token: neither the access token nor the refresh token is ever put in an error.
 */
export class HoldfastClientError extends Error {
  readonly code: HoldfastClientErrorCode;
  readonly reason: string | undefined;
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** True for network errors, 5xx and 429: the same call may succeed later. */
  readonly retryable: boolean;
  /** The server's GraphQL errors, when there were any. */
  readonly errors: readonly GraphQLErrorLike[];
  /** Partial data that came with the errors, if any. */
  readonly data: unknown;

  constructor(code: HoldfastClientErrorCode, message: string, init: HoldfastClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "HoldfastClientError";
    this.code = code;
    this.reason = init.reason;
    this.status = init.status;
    this.retryable = init.retryable ?? false;
    this.errors = init.errors ?? [];
    this.data = init.data;
  }
}
