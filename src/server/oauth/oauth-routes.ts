import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterRes } from "rate-limiter-flexible";
import type { TokenVerifier } from "../../auth/authenticate.js";
import { DEFAULT_DPOP_ALGORITHMS, type DpopNonces, verifyDpopProof } from "../../auth/dpop/index.js";
import type { ReplayStore } from "../../auth/dpop/replay-store.js";
import { OAuthClients } from "../../auth/oauth/oauth-clients.js";
import { recentRevocations } from "../../auth/oauth/recent-revocations.js";
import { introspectToken } from "../../auth/oauth/token-introspection.js";
import { revokeToken } from "../../auth/oauth/token-revocation.js";
import { LimiterStore } from "../../auth/rate-limit/limiter-store.js";
import { clientKey } from "../../auth/rate-limit.js";
import type { RevocationSet } from "../../auth/sessions/revocation.js";
import type { SessionService } from "../../auth/sessions/session-service.js";
import type { ScopeCatalogue } from "../../authz/scope-catalogue.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { Prisma } from "../../db/database.js";
import { UnauthenticatedError } from "../../errors/app-error.js";

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

export const OAUTH_PATHS = {
  authorizationServerMetadata: "/.well-known/oauth-authorization-server",
  protectedResourceMetadata: "/.well-known/oauth-protected-resource",
  introspect: "/oauth/introspect",
  revoke: "/oauth/revoke",
  revokedSessions: "/oauth/revoked-sessions",
  jwks: "/.well-known/jwks.json",
} as const;

/** The URL a 401 challenge points resource clients to (RFC 9728 §5.1). */
export function resourceMetadataUrl(config: Config): string {
  return `${config.server.publicUrl}${OAUTH_PATHS.protectedResourceMetadata}`;
}

/**
 * What OAuth tooling speaks: discovery (RFC 8414, RFC 9728), introspection (RFC 7662) and revocation
 * (RFC 7009), plus the revoked-session list that resource servers poll when they cannot subscribe to
 * the Redis feed. Every answer is `no-store`: none of it may be cached by a proxy.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthRoutesOptions): Promise<void> {
  const { config, clock, logger, prisma } = options;
  const base = config.server.publicUrl;
  const clients = new OAuthClients(config.oauth.clients);
  const store = new LimiterStore({
    redis: options.redis,
    keyPrefix: `${config.redis?.keyPrefix ?? "holdfast:"}rl`,
    clock,
    logger,
  });
  const perClient = store.limiter("oauth-client", config.oauth.perClientPerMinute, 60);
  const failuresByIp = store.limiter("oauth-failures", config.oauth.failuresPerIpPerMinute, 60);
  const publicByIp = store.limiter("oauth-public", config.oauth.perClientPerMinute, 60);
  const tokenLifetimeSeconds = config.tokens.accessTokenTtlSeconds + config.tokens.clockToleranceSeconds;
  const dpopAlgs = [...DEFAULT_DPOP_ALGORITHMS];

  // RFC 7662 §2.1 and RFC 7009 §2.1: parameters arrive as application/x-www-form-urlencoded.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get(OAUTH_PATHS.authorizationServerMetadata, async (_request, reply) =>
    noStore(reply).send({
      issuer: config.tokens.issuer,
      jwks_uri: `${base}${OAUTH_PATHS.jwks}`,
      introspection_endpoint: `${base}${OAUTH_PATHS.introspect}`,
      introspection_endpoint_auth_methods_supported: ["client_secret_basic"],
      revocation_endpoint: `${base}${OAUTH_PATHS.revoke}`,
      // "none": a public client (the browser SDK) revokes its own token; possession (and the DPoP key
      // for a bound token) is its proof, as RFC 7009 §5 allows.
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "none"],
      dpop_signing_alg_values_supported: dpopAlgs,
      scopes_supported: options.scopes.scopes,
      // Tokens are issued by the GraphQL mutations (login, refresh), not by an OAuth token endpoint.
      grant_types_supported: [],
      response_types_supported: [],
    }),
  );

  app.get(OAUTH_PATHS.protectedResourceMetadata, async (_request, reply) =>
    noStore(reply).send({
      resource: base,
      authorization_servers: [config.tokens.issuer],
      jwks_uri: `${base}${OAUTH_PATHS.jwks}`,
      bearer_methods_supported: ["header"],
      dpop_signing_alg_values_supported: dpopAlgs,
      dpop_bound_access_tokens_required: config.dpop.required,
      scopes_supported: options.scopes.scopes,
      resource_name: "Holdfast GraphQL API",
    }),
  );

  /** Client authentication and the limits; null when the reply was already sent. */
  async function authenticateClient(
    request: FastifyRequest,
    reply: FastifyReply,
    required: boolean,
  ): Promise<string | null | undefined> {
    const auth = clients.authenticate(headerValues(request, "authorization"));
    if (auth.kind === "client") {
      if (!(await consume(perClient, `client:${auth.clientId}`, reply))) return undefined;
      return auth.clientId;
    }
    if (auth.kind === "none" && !required) {
      if (!(await consume(publicByIp, clientKey(request.ip ?? null), reply))) return undefined;
      return null;
    }
    // Failures count per address, before they are answered, so guessing secrets is slow.
    if (!(await consume(failuresByIp, clientKey(request.ip ?? null), reply))) return undefined;
    noStore(reply)
      .code(401)
      .header("www-authenticate", 'Basic realm="holdfast"')
      .send({ error: "invalid_client" });
    return undefined;
  }

  async function consume(
    limiter: ReturnType<LimiterStore["limiter"]>,
    key: string,
    reply: FastifyReply,
  ): Promise<boolean> {
    try {
      await limiter.consume(key, 1);
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      noStore(reply)
        .code(429)
        .header("retry-after", String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))))
        .send({ error: "too_many_requests" });
      return false;
    }
  }

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

  app.post(OAUTH_PATHS.revoke, async (request, reply) => {
    const clientId = await authenticateClient(request, reply, false);
    if (clientId === undefined) return reply;
    const token = formParam(request, "token");
    if (!token) return noStore(reply).code(400).send({ error: "invalid_request" });
    const dpop = headerValues(request, "dpop");
    try {
      await revokeToken(
        {
          tokens: options.tokens,
          prisma,
          sessions: options.sessions,
          proof: ({ accessToken, expectedJkt }) =>
            verifyDpopProof(
              {
                headerValues: dpop,
                method: request.method,
                url: `${base}${OAUTH_PATHS.revoke}`,
                ...(accessToken ? { accessToken } : {}),
                expectedJkt,
              },
              {
                clock,
                replayStore: options.replayStore,
                nonces: options.nonces,
                iatWindowSeconds: config.dpop.iatWindowSeconds,
              },
            ),
        },
        {
          token,
          hint: formParam(request, "token_type_hint") ?? undefined,
          hasProof: dpop.length > 0,
          client: { ip: request.ip ?? null, userAgent: request.headers["user-agent"] ?? null },
        },
      );
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      // RFC 9449 §5/§8: the token endpoint's DPoP errors, as a 400 with the error code.
      if (error.reason === "use_dpop_nonce" && options.nonces) {
        return noStore(reply)
          .code(400)
          .header("dpop-nonce", options.nonces.current())
          .send({ error: "use_dpop_nonce" });
      }
      return noStore(reply)
        .code(400)
        .send({
          error: "invalid_dpop_proof",
          error_description:
            error.reason === "dpop_required"
              ? "The token is bound to a key: a DPoP proof from that key is required"
              : "The DPoP proof is not valid for this token and endpoint",
        });
    }
    // RFC 7009 §2.2: 200 whether or not the token was known.
    return noStore(reply).code(200).send();
  });

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

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

function formParam(request: FastifyRequest, name: string): string | null {
  const body = request.body;
  if (typeof body !== "object" || body === null) return null;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" && value.length > 0 && value.length <= 8192 ? value : null;
}

/** Every value of a header as sent (Node folds some duplicates; rawHeaders keeps them all). */
function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}
