import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { KeyStore } from "../auth/keys/key-store.js";
import type { RevocationSet } from "../auth/sessions/revocation.js";
import type { ScopeCatalogue } from "../authz/scope-catalogue.js";
import type { Database } from "../db/database.js";
import type { Services } from "../graphql/context.js";
import { composeSchema } from "../graphql/schema.js";
import { startApollo } from "./apollo.js";
import { type CreateServerOptions, resolveConfiguration } from "./configuration.js";
import { installDrainingRefusal } from "./draining.js";
import { graphqlContext } from "./graphql-context.js";
import { createHttpApp } from "./http-app.js";
import { registerGraphqlRoute, registerOperationalRoutes } from "./http-routes.js";
import { startBackgroundWork } from "./lifecycle.js";
import { setUpModules } from "./module-setup.js";
import { oauthRoutes } from "./oauth/oauth-routes.js";
import { createServices } from "./services.js";
import { openStores } from "./stores.js";
import { registerSubscriptions } from "./subscriptions/register-subscriptions.js";
import type { SubscriptionServer } from "./subscriptions/subscription-server.js";

export type { CreateServerOptions } from "./configuration.js";

export interface HoldfastServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly database: Database;
  readonly keys: KeyStore;
  readonly revocations: RevocationSet;
  readonly logger: Logger;
  /** The scope catalogue the server was built with. */
  readonly scopes: ScopeCatalogue;
  /** GraphQL over WebSocket on the same port and path. */
  readonly subscriptions: SubscriptionServer;
  /** Stops accepting, lets in-flight requests finish, closes pools. */
  close(): Promise<void>;
}

/**
 * Assembles Holdfast: shared by main.ts (the only listener) and the tests. Each step is its own
 * module: configuration → stores → services → background work → HTTP app → Apollo → routes.
 */
export async function createServer(options: CreateServerOptions): Promise<HoldfastServer> {
  // Composed and checked before anything opens: default deny stops a server with an undecided field.
  const { schema, catalogue, renderSharing } = composeSchema({ modules: options.modules ?? [] });
  const runtime = await resolveConfiguration(options, catalogue);
  const opened = await openStores(runtime);
  const stores = options.wrapTokenVerifier
    ? { ...opened, verifier: options.wrapTokenVerifier(opened.verifier) }
    : opened;
  const services = await createServices(runtime, stores);
  let stopModules: () => Promise<void>;
  try {
    stopModules = await setUpModules(options.modules ?? [], runtime, stores);
  } catch (error) {
    // A module that cannot start stops the server before it serves: what was opened is closed, so
    // an application (or its tests) that catches the error is not left with open pools.
    await stores.infrastructure.close().catch(() => {});
    await stores.passwords.close().catch(() => {});
    if (runtime.ownsDatabase) await runtime.database.close().catch(() => {});
    throw error;
  }
  const background = await startBackgroundWork(runtime, stores, services);

  const app = createHttpApp(runtime);
  // Before the routes: after SIGTERM, a request still arriving is a retryable GraphQL 503.
  const draining = installDrainingRefusal(app);
  const apollo = await startApollo(app, runtime, schema);
  const context = graphqlContext(runtime, stores, services);
  await registerGraphqlRoute(app, runtime, { apollo, context, nonces: stores.nonces });
  registerOperationalRoutes(app, runtime, stores);
  // OAuth metadata, introspection, revocation and the revoked-session list (src/server/oauth/).
  await app.register(oauthRoutes, {
    config: runtime.config,
    clock: runtime.clock,
    logger: runtime.logger,
    prisma: runtime.database.prisma,
    tokens: stores.verifier,
    revocations: stores.revocations,
    sessions: services.sessions,
    replayStore: stores.infrastructure.replayStore,
    nonces: stores.nonces,
    redis: stores.infrastructure.redis,
    scopes: runtime.scopes,
  });
  const subscriptions = registerSubscriptions(
    app,
    runtime,
    stores,
    services,
    { schema, renderSharing },
    background.freshness,
  );

  let closed = false;
  return {
    app,
    services,
    database: runtime.database,
    keys: stores.keys,
    revocations: stores.revocations,
    logger: runtime.logger,
    scopes: runtime.scopes,
    subscriptions,
    async close() {
      if (closed) return;
      closed = true;
      draining.start();
      background.stop();
      // WebSockets first, with 1001 (going away): clients reconnect to another instance.
      await subscriptions.close();
      await app.close();
      await stopModules();
      await stores.infrastructure.close();
      await stores.passwords.close();
      if (runtime.ownsDatabase) await runtime.database.close();
    },
  };
}
