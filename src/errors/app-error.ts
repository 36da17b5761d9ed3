/**
 * The one base class for errors we raise on purpose. Each subclass has a stable GraphQL `code`
 * and, where a client must react differently, a snake_case `reason`. Anything that is not an
 * AppError (or a GraphQL parse/validation error) is masked before it reaches a client.
 */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE";

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly httpStatus: number;
  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
  /** Fields a client may see, beside `code`. */
  publicExtensions(): Record<string, unknown> {
    return this.reason ? { reason: this.reason } : {};
  }
}

export type UnauthenticatedReason =
  | "token_expired"
  | "invalid_token"
  | "token_revoked"
  | "dpop_required"
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  | "invalid_credentials"
  | "invalid_refresh_token"
  | "refresh_token_reused"
  | "authentication_required"
  | "insufficient_user_authentication"
  | "invalid_passkey_challenge"
  | "invalid_passkey"
  | "passkey_counter_regressed";

export class UnauthenticatedError extends AppError {
  readonly code = "UNAUTHENTICATED";
  readonly httpStatus = 401;
  constructor(
    override readonly reason: UnauthenticatedReason,
    message = "Authentication failed",
  ) {
    super(message, reason);
  }
}

export class ForbiddenError extends AppError {
  readonly code = "FORBIDDEN";
  readonly httpStatus = 403;
  /** Alternatives: the caller needs every scope of at least one group. */
  constructor(
    readonly requiredScopes: readonly (readonly string[])[],
    message = "Not allowed",
    reason = "insufficient_scope",
  ) {
    super(message, reason);
  }
  override publicExtensions(): Record<string, unknown> {
    return { reason: this.reason, requiredScopes: this.requiredScopes };
  }
}

export class BadUserInputError extends AppError {
  readonly code = "BAD_USER_INPUT";
  readonly httpStatus = 400;
  constructor(
    reason: string,
    message: string,
    readonly field?: string,
  ) {
    super(message, reason);
  }
  override publicExtensions(): Record<string, unknown> {
    return this.field ? { reason: this.reason, field: this.field } : { reason: this.reason };
  }
}

export class NotFoundError extends AppError {
  readonly code = "NOT_FOUND";
  readonly httpStatus = 404;
  constructor(message = "Not found") {
    super(message, "not_found");
  }
}

export class TooManyRequestsError extends AppError {
  readonly code = "TOO_MANY_REQUESTS";
  readonly httpStatus = 429;
  constructor(
    readonly retryAfterSeconds: number,
    message = "Too many attempts, try again later",
  ) {
    super(message, "rate_limited");
  }
  override publicExtensions(): Record<string, unknown> {
    return { reason: this.reason, retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** A dependency (database, Redis) is down: the same request may succeed later. */
export class ServiceUnavailableError extends AppError {
  readonly code = "SERVICE_UNAVAILABLE";
  readonly httpStatus = 503;
  constructor(
    message = "Service temporarily unavailable, retry shortly",
    reason: "dependency_unavailable" | "server_busy" = "dependency_unavailable",
    options?: { cause?: unknown },
  ) {
    super(message, reason);
    // Kept for the log (which dependency, what it said); never published.
    if (options && "cause" in options) this.cause = options.cause;
  }
  override publicExtensions(): Record<string, unknown> {
    return { reason: this.reason, retryable: true };
  }
}

/** RFC 9449 §8: the proof lacked the server's current nonce; the client retries with `nonce`. */
export class DpopNonceRequiredError extends UnauthenticatedError {
  constructor(readonly nonce: string) {
    super("use_dpop_nonce", "A DPoP nonce is required");
  }
}

/**
 * RFC 9470 §3: the token is valid, but the authentication behind it is too old (`maxAge`) or too
 * weak (`acrValues`). The client re-authenticates the same session (`reauthenticate`) and retries.
 */
export class InsufficientUserAuthenticationError extends UnauthenticatedError {
  constructor(
    readonly requirement: { readonly maxAge?: number; readonly acrValues?: readonly string[] },
    message = "A more recent or stronger authentication is required",
  ) {
    super("insufficient_user_authentication", message);
  }
  override publicExtensions(): Record<string, unknown> {
    const { maxAge, acrValues } = this.requirement;
    return {
      reason: this.reason,
      ...(acrValues !== undefined ? { acrValues } : {}),
      ...(maxAge !== undefined ? { maxAge } : {}),
    };
  }
}
