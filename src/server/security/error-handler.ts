import { randomUUID } from "node:crypto";
import type { FastifyError, FastifyInstance } from "fastify";
import type { Logger } from "pino";

// Fixed answers for what Fastify refuses before GraphQL sees the request: its own messages may
// quote the body back (a JSON parse error does).
const CLIENT_ERRORS: Record<number, { code: string; reason: string; message: string }> = {
  400: { code: "BAD_REQUEST", reason: "malformed_request", message: "The request body is not valid" },
  413: { code: "PAYLOAD_TOO_LARGE", reason: "body_too_large", message: "Request body is too large" },
  415: { code: "BAD_REQUEST", reason: "unsupported_media_type", message: "Unsupported content type" },
};

/**
 * Errors outside GraphQL (body too large, bad JSON, a crash in a route) answer in the GraphQL
 * error shape. A client error keeps its status with a fixed message; anything else is masked
 * like formatError masks: "Internal server error" and a correlation id that is in the log.
 * Must be installed before the routes and plugins it should cover.
 */
export function installErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const known = CLIENT_ERRORS[status] ?? {
        code: "BAD_REQUEST",
        reason: "bad_request",
        message: "Bad request",
      };
      return reply.code(status).send({
        errors: [{ message: known.message, extensions: { code: known.code, reason: known.reason } }],
      });
    }
    const correlationId = randomUUID();
    logger.error({ err: error, correlationId, reqId: request.id }, "internal error");
    return reply.code(500).send({
      errors: [
        { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR", correlationId } },
      ],
    });
  });
}
