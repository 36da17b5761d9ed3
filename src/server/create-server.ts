import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyCors from "@fastify/cors";
import DataLoader from "dataloader";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { AuditLog } from "../auth/audit-log.js";
import { type AccessTokenIssuer, AuthService } from "../auth/auth-service.js";
import { type Authentication, authenticate } from "../auth/authenticate.js";
import { DpopNonces, verifyDpopProof } from "../auth/dpop/index.js";
import { KeyStore, keyStoreConfig } from "../auth/keys/key-store.js";
import { createPasswordHasher } from "../auth/passwords.js";
import { AuthRateLimits } from "../auth/rate-limit.js";
import { RevocationSet } from "../auth/sessions/revocation.js";
import { SessionService } from "../auth/sessions/session-service.js";
import { issueAccessToken } from "../auth/tokens/issue-access-token.js";
import { AccessTokenVerifier } from "../auth/tokens/verify-access-token.js";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config/config.js";
import { type Database, openDatabase } from "../db/database.js";
import { AppError, UnauthenticatedError } from "../errors/app-error.js";
import { createFormatError, toGraphQLError } from "../errors/format-error.js";
import type { GraphQLContext, RefreshCookie, Services } from "../graphql/context.js";
import { buildSchema } from "../graphql/schema.js";
import { singleCredentialOperation } from "../graphql/single-credential-operation.js";
import { createLogger } from "../logger.js";
import { NoteService } from "../notes/note-service.js";
import { UserService } from "../users/user-service.js";
import { challengeHeaders, dpopChallengePlugin } from "./challenge.js";
import { demoRoutes } from "./demo/demo-routes.js";
import { installDrainingRefusal } from "./draining.js";
import { createInfrastructure } from "./infrastructure.js";
import { corsOptions } from "./security/cors.js";
import { installErrorHandler } from "./security/error-handler.js";
import { graphqlLimits } from "./security/graphql-limits.js";
import { hideSuggestions } from "./security/hide-suggestions.js";
import {
  generateRequestId,
  installRequestLog,
  requestLogPlugin,
  withRequestLog,
} from "./security/request-log.js";
import { installSecurityHeaders } from "./security/security-headers.js";
import { serviceUnavailablePlugin } from "./service-unavailable-plugin.js";

export interface CreateServerOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  /** An already open database (tests share one); otherwise opened from config. */
  database?: Database;
}

export interface HoldfastServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly database: Database;
  readonly keys: KeyStore;
  readonly revocations: RevocationSet;
  readonly logger: Logger;
  /** Stops accepting, lets in-flight requests finish, closes pools. */
  close(): Promise<void>;
}

/** Every header value of `name`, as sent: Node folds some duplicates, rawHeaders keeps them all. */
function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}

/** Assembles Holdfast: shared by main.ts (the only listener) and the tests. */
export async function createServer(options: CreateServerOptions): Promise<HoldfastServer> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.log);
  const database = options.database ?? (await openDatabase(config.database));
  const { prisma } = database;

  const keys = await KeyStore.open({
    prisma,
    clock,
    config: keyStoreConfig(config),
  });
  const verifier = new AccessTokenVerifier({ keys, clock, config: config.tokens });
  const revocations = new RevocationSet(clock);
  const infrastructure = await createInfrastructure(config, clock, logger);
  const { bus, replayStore } = infrastructure;
  bus.subscribe((list) => {
    for (const r of list) revocations.add(r.sessionId, r.until);
  });
  const nonces = config.dpop.nonceSecret ? new DpopNonces(config.dpop.nonceSecret, clock) : null;
  const endpointUrl = `${config.server.publicUrl}${config.server.graphqlPath}`;

  const audit = new AuditLog(prisma, clock);
  const users = new UserService(prisma, clock);
  const notes = new NoteService(prisma, clock);
  const sessions = new SessionService({
    prisma,
    clock,
    audit,
    revocations,
    bus,
    config: {
      ...config.refresh,
      accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    },
  });
  const passwords = await createPasswordHasher(config.passwords);
  const tokens: AccessTokenIssuer = {
    issue: (input) => issueAccessToken({ keys, clock, config: config.tokens }, input),
  };
  const limits = new AuthRateLimits({
    config: config.rateLimits,
    clock,
    logger,
    redis: infrastructure.redis,
    keyPrefix: `${config.redis?.keyPrefix ?? "holdfast:"}rl`,
  });
  const auth = new AuthService({
    clock,
    users,
    sessions,
    passwords,
    tokens,
    audit,
    limits,
    dpopRequired: config.dpop.required,
  });
  const services: Services = {
    users,
    notes,
    sessions,
    auth,
    keys: {
      rotate: async () => {
        const rotated = await keys.rotate();
        await audit.record({ type: "signing_key.rotated", detail: { kid: rotated.kid } });
        return rotated;
      },
    },
  };
  const loaded = await sessions.loadRecentRevocations();
  logger.debug({ loaded }, "loaded recent revocations");
  // Pub/sub is the fast path; the database is the record. Whenever the bus cannot deliver (Redis
  // down, or several PostgreSQL instances without Redis), re-read recent revocations on a timer.
  const resync = () =>
    sessions
      .loadRecentRevocations()
      .catch((error: unknown) => logger.warn({ err: error }, "revocation reload failed"));
  infrastructure.onResync(() => void resync());
  let pollingLogged = false;
  const poll = setInterval(() => {
    if (infrastructure.busHealthy()) {
      pollingLogged = false;
      return;
    }
    if (!pollingLogged) logger.warn("revocations are polled from the database (no pub/sub delivery)");
    pollingLogged = true;
    void resync();
  }, config.revocationPollSeconds * 1000);
  poll.unref();

  const proofs = {
    verify: (input: {
      headerValues: readonly string[];
      method: string;
      accessToken?: string;
      expectedJkt?: string;
    }) =>
      verifyDpopProof(
        { ...input, url: endpointUrl },
        { clock, replayStore, nonces, iatWindowSeconds: config.dpop.iatWindowSeconds },
      ),
  };

  const app = Fastify({
    logger: false,
    // Request body cap; Node's own header limit (16 KiB) turns an oversized token into a 431.
    bodyLimit: 64 * 1024,
    genReqId: generateRequestId,
    trustProxy: config.http.trustProxy === false ? false : [...config.http.trustProxy],
    // Refused while draining by installDrainingRefusal, in the GraphQL error shape.
    return503OnClosing: false,
  });
  installErrorHandler(app, logger);
  installRequestLog(app, logger);
  const draining = installDrainingRefusal(app);
  installSecurityHeaders(app, { https: config.server.publicUrl.startsWith("https:") });

  const dev = config.env === "development";
  const queryLimits = graphqlLimits(config.graphqlLimits);
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    fastifyApolloDrainPlugin(app),
    // Per-user responses are never cacheable; the plugin's bookkeeping costs ~40% of a large list.
    ApolloServerPluginCacheControlDisabled(),
    // DPoP refusals that only a resolver can make (a bound refresh family) still answer 401 + challenge.
    dpopChallengePlugin(),
    dev
      ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: true })
      : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
    requestLogPlugin(),
    queryLimits.plugin,
    // Sandbox wants "Did you mean …" in development; production keeps its schema to itself.
    ...(dev ? [] : [hideSuggestions()]),
    // A response whose only errors are SERVICE_UNAVAILABLE (database down) is an HTTP 503 with Retry-After.
    serviceUnavailablePlugin(),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema: buildSchema(),
    plugins,
    introspection: config.http.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    validationRules: [singleCredentialOperation, ...queryLimits.validationRules],
    parseOptions: queryLimits.parseOptions,
    formatError: createFormatError(logger, { exposeStack: dev }),
    logger: {
      debug: () => {},
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();

  await app.register(fastifyCookie);
  await app.register(fastifyCors, corsOptions({ corsOrigins: config.http.corsOrigins, dev }));

  const secureCookie = true;
  const cookiePath = config.refresh.cookieName.startsWith("__Host-") ? "/" : config.server.graphqlPath;
  const refreshCookie = (request: FastifyRequest, reply: FastifyReply): RefreshCookie => ({
    read: () => request.cookies[config.refresh.cookieName] ?? null,
    set: (token, expiresAt) =>
      void reply.setCookie(config.refresh.cookieName, token, {
        httpOnly: true,
        // Browsers treat http://localhost as a secure context, so __Host- works in development too.
        secure: secureCookie,
        sameSite: "strict",
        path: cookiePath,
        expires: expiresAt,
      }),
    clear: () =>
      void reply.clearCookie(config.refresh.cookieName, {
        httpOnly: true,
        secure: secureCookie,
        sameSite: "strict",
        path: cookiePath,
      }),
  });

  const context = async (request: FastifyRequest, reply: FastifyReply): Promise<GraphQLContext> => {
    const authorization = headerValues(request, "authorization");
    let authentication: Authentication;
    try {
      authentication = await authenticate(
        {
          authorization,
          dpop: headerValues(request, "dpop"),
          method: request.method,
          tokenInQuery: /[?&](access_token|token)=/i.test(request.url),
        },
        { tokens: verifier, proofs, revocations, dpopRequired: config.dpop.required },
      );
    } catch (error) {
      if (error instanceof UnauthenticatedError) {
        const usedDpop = /^dpop /i.test(authorization[0] ?? "");
        throw toGraphQLError(error, { headers: challengeHeaders(error, usedDpop) });
      }
      if (error instanceof AppError) throw toGraphQLError(error, {});
      throw error;
    }
    return {
      viewer: authentication.viewer,
      proofJkt: authentication.proofJkt,
      client: { ip: request.ip ?? null, userAgent: request.headers["user-agent"] ?? null },
      services,
      refreshCookie: refreshCookie(request, reply),
      loaders: { user: new DataLoader((ids: readonly string[]) => users.findManyByIds(ids)) },
    };
  };

  app.addHook("onSend", async (_request, reply, payload) => {
    // The server's own clock (injected): clients time token lifetimes and DPoP proofs by it.
    void reply.header("date", clock.now().toUTCString());
    if (nonces) void reply.header("dpop-nonce", nonces.current());
    return payload;
  });
  if (config.http.demo) await app.register(demoRoutes);

  await app.register(fastifyApollo(apollo), {
    context: withRequestLog(context),
    path: config.server.graphqlPath,
  });

  app.get("/healthz", async (_request, reply) =>
    reply.header("cache-control", "no-store").send({ status: "ok" }),
  );
  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, "ok" | "down"> = { ...infrastructure.health() };
    try {
      await database.ping();
      checks.database = "ok";
    } catch {
      checks.database = "down";
    }
    // Redis down degrades (memory fallbacks, polling) but does not stop service: only the database gates readiness.
    const ready = checks.database === "ok";
    return reply
      .code(ready ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ status: ready ? "ok" : "unavailable", checks });
  });
  app.get("/.well-known/jwks.json", async (_request, reply) =>
    // Short enough that a verifier sees a new key well before it signs (the publish delay).
    reply
      .header(
        "cache-control",
        `public, max-age=${Math.max(0, Math.min(300, Math.floor(config.keys.publishDelaySeconds / 2)))}`,
      )
      .send(keys.jwks()),
  );

  const reload = setInterval(() => {
    keys
      .reload()
      .then(() => keys.rotateIfDue())
      .catch((error: unknown) => logger.warn({ err: error }, "signing key reload failed"));
  }, config.keys.reloadIntervalSeconds * 1000);
  reload.unref();

  let closed = false;
  return {
    app,
    services,
    database,
    keys,
    revocations,
    logger,
    async close() {
      if (closed) return;
      closed = true;
      draining.start();
      clearInterval(reload);
      clearInterval(poll);
      await app.close();
      await infrastructure.close();
      if (!options.database) await database.close();
    },
  };
}
