import type { ApolloServer } from "@apollo/server";
import fastifyApollo from "@as-integrations/fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyCors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import type { GraphQLContext } from "../graphql/context.js";
import type { ServerRuntime } from "./configuration.js";
import { demoRoutes } from "./demo/demo-routes.js";
import { frontPageRoutes, README_PATH } from "./front-page/front-page-routes.js";
import type { ContextFunction } from "./graphql-context.js";
import { installIde } from "./ide/ide-routes.js";
import { browserOrigins, corsOptions } from "./security/cors.js";
import { withRequestLog } from "./security/request-log.js";
import type { ServerStores } from "./stores.js";

/** Step 6 of `createServer`: cookies, CORS, response headers, the GraphQL endpoint and the demo pages. */
export async function registerGraphqlRoute(
  app: FastifyInstance,
  runtime: ServerRuntime,
  {
    apollo,
    context,
    nonces,
  }: {
    apollo: ApolloServer<GraphQLContext>;
    context: ContextFunction;
    nonces: ServerStores["nonces"];
  },
): Promise<void> {
  const { config, clock, logger } = runtime;
  await app.register(fastifyCookie);
  const dev = config.env === "development";
  await app.register(fastifyCors, corsOptions(browserOrigins(config)));
  app.addHook("onSend", async (_request, reply, payload) => {
    // The server's own clock (injected): clients time token lifetimes and DPoP proofs by it.
    void reply.header("date", clock.now().toUTCString());
    if (nonces) void reply.header("dpop-nonce", nonces.current());
    return payload;
  });
  if (config.http.demo) await app.register(demoRoutes);
  if (config.http.ide)
    installIde(app, {
      graphqlPath: config.server.graphqlPath,
      readmePath: config.http.demo ? README_PATH : null,
      logger,
    });
  await app.register(frontPageRoutes, {
    endpointUrl: `${config.server.publicUrl}${config.server.graphqlPath}`,
    demo: config.http.demo,
    sandbox: dev || config.http.ide,
    ide: config.http.ide,
    readme: config.http.demo,
  });
  await app.register(fastifyApollo(apollo), {
    context: withRequestLog(context),
    path: config.server.graphqlPath,
  });
}

/** `{ details }` when there are any (with Redis: messages refused on the revocation channel). */
function detailsOf(details: Record<string, unknown>): { details?: Record<string, unknown> } {
  return Object.keys(details).length > 0 ? { details } : {};
}

/** Step 7 of `createServer`: liveness, readiness and the JWKS. */
export function registerOperationalRoutes(
  app: FastifyInstance,
  { config, database }: ServerRuntime,
  { keys, infrastructure }: ServerStores,
): void {
  app.get("/healthz", async (_request, reply) =>
    reply.header("cache-control", "no-store").send({ status: "ok" }),
  );
  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, string> = { ...infrastructure.health() };
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
      .send({ status: ready ? "ok" : "unavailable", checks, ...detailsOf(infrastructure.details()) });
  });
  // Short enough that a verifier sees a new key well before it signs (the publish delay).
  const jwksMaxAge = Math.max(0, Math.min(300, Math.floor(config.keys.publishDelaySeconds / 2)));
  app.get("/.well-known/jwks.json", async (_request, reply) =>
    reply.header("cache-control", `public, max-age=${jwksMaxAge}`).send(keys.jwks()),
  );
}
