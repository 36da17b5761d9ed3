import { randomUUID } from "node:crypto";
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { AppError } from "./app-error.js";

// Codes that graphql-js and Apollo assign to malformed requests: safe to show as they are.
const PASS_THROUGH = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/** GraphQL form of an AppError: message, code, reason and the fields it chose to publish. */
export function toGraphQLError(error: AppError, http?: { headers?: Map<string, string> }): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      code: error.code,
      ...error.publicExtensions(),
      ...(http ? { http: { status: error.httpStatus, ...http } } : {}),
    },
  });
}

/**
 * The single formatError: typed errors keep code and reason; parse/validation errors pass;
 * everything else becomes "Internal server error" with a correlation id that is in the log.
 */
export function createFormatError(logger: Logger, options: { exposeStack: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: original.code, ...original.publicExtensions() },
      };
    }
    const code = formatted.extensions?.code;
    const deliberate =
      original instanceof GraphQLError &&
      typeof code === "string" &&
      (PASS_THROUGH.has(code) || isAppCode(code));
    if (deliberate) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    const correlationId = randomUUID();
    logger.error({ err: original, correlationId, path: formatted.path }, "internal error");
    return {
      message: "Internal server error",
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: {
        code: "INTERNAL_SERVER_ERROR",
        correlationId,
        ...(options.exposeStack && original instanceof Error
          ? { stacktrace: original.stack?.split("\n") }
          : {}),
      },
    };
  };
}

function isAppCode(code: string): boolean {
  return ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"].includes(
    code,
  );
}
