import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/authenticate.js";
import type { DpopNonces } from "../../auth/dpop/index.js";
import type { ReplayStore } from "../../auth/dpop/replay-store.js";
import type { RevocationSet } from "../../auth/sessions/revocation.js";
import type { SessionService } from "../../auth/sessions/session-service.js";
import type { ScopeCatalogue } from "../../authz/scope-catalogue.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { Prisma } from "../../db/database.js";
import { clientAuthentication } from "./client-authentication.js";
import { introspectionRoute } from "./introspection-route.js";
import { metadataRoutes } from "./metadata-routes.js";
import { revocationRoute } from "./revocation-route.js";
import { revokedSessionsRoute } from "./revoked-sessions-route.js";

// Kept importable from here: the paths and the challenge URL were this file's exports before the split.
export { OAUTH_PATHS, resourceMetadataUrl } from "./oauth-paths.js";

export interface OAuthRoutesOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly prisma: Prisma;
  readonly tokens: TokenVerifier;
  readonly revocations: RevocationSet;
  readonly sessions: SessionService;
  readonly replayStore: ReplayStore;
  readonly nonces: DpopNonces | null;
  readonly redis: Redis | null;
  /** `scopes_supported` in the metadata (RFC 8414 §2, RFC 9728 §2). */
  readonly scopes: ScopeCatalogue;
}

/**
 * What OAuth tooling speaks: discovery (RFC 8414, RFC 9728), introspection (RFC 7662) and revocation
 * (RFC 7009), plus the revoked-session list that resource servers poll when they cannot subscribe to
 * the Redis feed. Every answer is `no-store`: none of it may be cached by a proxy.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthRoutesOptions): Promise<void> {
  const authenticateClient = clientAuthentication(options);

  // RFC 7662 §2.1 and RFC 7009 §2.1: parameters arrive as application/x-www-form-urlencoded.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  metadataRoutes(app, options);
  introspectionRoute(app, options, authenticateClient);
  revocationRoute(app, options, authenticateClient);
  revokedSessionsRoute(app, options, authenticateClient);
}
