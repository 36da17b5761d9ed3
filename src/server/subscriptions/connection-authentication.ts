import type { Logger } from "pino";
import { type Authentication, authenticate } from "../../auth/authenticate.js";
import { AppError, UnauthenticatedError } from "../../errors/app-error.js";
import type { LiveConnection } from "./live-connection.js";

export type AuthenticationDeps = Parameters<typeof authenticate>[1];

/**
 * The values of `name` among a connection_init or ping payload's keys. Keys are read as HTTP
 * header names, case-insensitive: a client that forwards its headers (`Authorization`) is
 * understood as well.
 */
export function payloadValues(payload: unknown, name: string): unknown[] {
  if (typeof payload !== "object" || payload === null) return [];
  return Object.entries(payload)
    .filter(([key]) => key.toLowerCase() === name)
    .map(([, value]) => value);
}

/** A connection_init or renewal payload, authenticated exactly as an HTTP request (authenticate.ts). */
export function authenticatePayload(payload: unknown, auth: AuthenticationDeps): Promise<Authentication> {
  const authorization = payloadValues(payload, "authorization");
  const dpop = payloadValues(payload, "dpop");
  if ([...authorization, ...dpop].some((v) => typeof v !== "string")) {
    return Promise.reject(
      new UnauthenticatedError("invalid_token", "authorization and dpop must be strings"),
    );
  }
  return authenticate(
    {
      // More than one of either is refused by authenticate, as duplicate HTTP headers are.
      authorization: authorization as string[],
      dpop: dpop as string[],
      // RFC 9449 §4.2: the proof names the request that carries it; here, the upgrade's GET of
      // the endpoint's HTTP URL (DESIGN.md, Subscriptions).
      method: "GET",
      tokenInQuery: false,
    },
    auth,
  );
}

/** An authentication failure's close: 4401 with the HTTP reason; anything unexpected, 1011. */
export function refuse(connection: LiveConnection, error: unknown, logger: Logger): void {
  if (error instanceof UnauthenticatedError && error.reason) connection.close(4401, error.reason);
  else if (error instanceof AppError) connection.close(1011, error.reason ?? "unavailable");
  else {
    logger.error({ err: error }, "subscription authentication failed unexpectedly");
    connection.close(1011, "internal_error");
  }
}
