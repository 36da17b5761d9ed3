import type { FastifyInstance } from "fastify";
import { recentRevocations } from "../../auth/oauth/recent-revocations.js";
import type { SessionService } from "../../auth/sessions/session-service.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { Prisma } from "../../db/database.js";
import type { AuthenticateClient } from "./client-authentication.js";
import { noStore } from "./oauth-http.js";
import { OAUTH_PATHS } from "./oauth-paths.js";

export interface RevokedSessionsRouteOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly prisma: Prisma;
  readonly sessions: SessionService;
}

/** The revoked-session list that resource servers poll when they cannot subscribe to the Redis feed. */
export function revokedSessionsRoute(
  app: FastifyInstance,
  options: RevokedSessionsRouteOptions,
  authenticateClient: AuthenticateClient,
): void {
  const { config, clock, prisma } = options;
  // A session revoked longer ago than any token lives no longer matters to a resource server.
  const tokenLifetimeSeconds = config.tokens.accessTokenTtlSeconds + config.tokens.clockToleranceSeconds;
  app.get(OAUTH_PATHS.revokedSessions, async (request, reply) => {
    const clientId = await authenticateClient(request, reply, true);
    if (!clientId) return reply;
    const sessions = await recentRevocations(prisma, clock, tokenLifetimeSeconds);
    // Revoked single tokens ride along under `jti:<jti>`, as on the feed (session-ending-rule.ts).
    const tokens = (await options.sessions.tokens.recent()).map((r) => ({
      sid: r.sessionId,
      tokens_expire_by: Math.ceil(r.until.getTime() / 1000),
    }));
    const revoked = [...sessions, ...tokens];
    return noStore(reply).send({ revoked, generated_at: Math.floor(clock.now().getTime() / 1000) });
  });
}
