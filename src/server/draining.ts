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
 *
 * A request already in flight at SIGTERM is answered with `Connection: close` too: otherwise its
 * keep-alive socket stays open idle (72 s by default) after `server.close()` closed the sockets
 * that were idle at that moment, and the close never resolves within the shutdown bound.
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
  app.addHook("onSend", async (_request, reply) => {
    if (draining) reply.header("connection", "close");
  });
  return {
    start() {
      draining = true;
      // Sockets idle now close at once; the busy ones close after their answer (above).
      app.server.closeIdleConnections();
    },
  };
}
