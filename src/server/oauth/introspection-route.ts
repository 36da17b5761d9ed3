import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/authenticate.js";
import { introspectToken } from "../../auth/oauth/token-introspection.js";
import type { RevocationSet } from "../../auth/sessions/revocation.js";
import type { Clock } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import type { AuthenticateClient } from "./client-authentication.js";
import { formParam, noStore } from "./oauth-http.js";
import { OAUTH_PATHS } from "./oauth-paths.js";

export interface IntrospectionRouteOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly prisma: Prisma;
  readonly tokens: TokenVerifier;
  readonly revocations: RevocationSet;
}

/** Token introspection (RFC 7662), for confidential clients only. */
export function introspectionRoute(
  app: FastifyInstance,
  options: IntrospectionRouteOptions,
  authenticateClient: AuthenticateClient,
): void {
  const { clock, logger, prisma } = options;
  app.post(OAUTH_PATHS.introspect, async (request, reply) => {
    const clientId = await authenticateClient(request, reply, true);
    if (!clientId) return reply;
    const token = formParam(request, "token");
    if (!token) return noStore(reply).code(400).send({ error: "invalid_request" });
    const result = await introspectToken(
      {
        tokens: options.tokens,
        revocations: options.revocations,
        prisma,
        clock,
        onDatabaseError: (error) =>
          logger.warn({ err: error }, "introspection: database unavailable, memory revocations only"),
      },
      token,
      formParam(request, "token_type_hint") ?? undefined,
    );
    return noStore(reply).send(result);
  });
}
