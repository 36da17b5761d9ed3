import Fastify, { type FastifyInstance } from "fastify";
import type { ServerRuntime } from "./configuration.js";
import { installErrorHandler } from "./security/error-handler.js";
import { generateRequestId, installRequestLog } from "./security/request-log.js";
import { installSecurityHeaders } from "./security/security-headers.js";

/** Step 4 of `createServer`: the Fastify instance with its request-wide hooks (errors, log, headers). */
export function createHttpApp({ config, logger }: ServerRuntime): FastifyInstance {
  const app = Fastify({
    logger: false,
    // Request body cap; Node's own header limit (16 KiB) turns an oversized token into a 431.
    bodyLimit: 64 * 1024,
    genReqId: generateRequestId,
    trustProxy: config.http.trustProxy === false ? false : [...config.http.trustProxy],
    // Refused while draining by installDrainingRefusal, in the GraphQL error shape.
    return503OnClosing: false,
    // app.close() closes keep-alive sockets that are idle; busy ones get `Connection: close`.
    forceCloseConnections: "idle",
  });
  installErrorHandler(app, logger);
  installRequestLog(app, logger);
  installSecurityHeaders(app, { https: config.server.publicUrl.startsWith("https:") });
  return app;
}
