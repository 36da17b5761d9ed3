import type { FastifyInstance } from "fastify";
import { ServiceUnavailableError } from "../errors/app-error.js";

/** Sent as `Retry-After` (RFC 9110 §10.2.3) while draining: by then another instance answers. */
const RETRY_AFTER_SECONDS = 1;

/**
 * After SIGTERM the listening socket closes, but a request can still arrive on a keep-alive
 * connection that was open. Fastify would answer it with a bare 503 whose body is not GraphQL, and
 * the client SDK could not tell it is worth retrying. This answers it as every other outage:
 * HTTP 503, `Retry-After`, `Connection: close`, and a GraphQL error SERVICE_UNAVAILABLE with
 * `retryable: true`. Install before the routes (Fastify's own refusal is turned off by
 * `return503OnClosing: false`).
 */
export function installDrainingRefusal(app: FastifyInstance): { start(): void } {
  let draining = false;
  const error = new ServiceUnavailableError("This instance is shutting down, retry shortly");
  const body = JSON.stringify({
    errors: [
      {
        message: error.message,
        extensions: { code: error.code, ...error.publicExtensions(), reason: "shutting_down" },
      },
    ],
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!draining) return;
    return reply
      .code(503)
      .header("retry-after", String(RETRY_AFTER_SECONDS))
      .header("connection", "close")
      .header("content-type", "application/json; charset=utf-8")
      .send(body);
  });
  return {
    start() {
      draining = true;
    },
  };
}
