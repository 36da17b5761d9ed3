import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { createFormatError } from "../../errors/format-error.js";
import type { Services } from "../../graphql/context.js";
import type { ComposedSchema } from "../../graphql/schema.js";
import type { ServerRuntime } from "../configuration.js";
import { authenticationDeps } from "../graphql-context.js";
import type { RevocationFreshness } from "../revocation-freshness.js";
import { graphqlLimits } from "../security/graphql-limits.js";
import type { ServerStores } from "../stores.js";
import { attachSubscriptions, type SubscriptionServer } from "./subscription-server.js";

/**
 * The `createServer` step for subscriptions: GraphQL over WebSocket on the HTTP server's port and
 * path, with the HTTP step's authentication, permission map, query limits and error masking.
 */
export function registerSubscriptions(
  app: FastifyInstance,
  runtime: ServerRuntime,
  stores: ServerStores,
  services: Services,
  composed: { schema: GraphQLSchema; renderSharing: ComposedSchema["renderSharing"] },
  freshness: RevocationFreshness,
): SubscriptionServer {
  const { config, clock, logger } = runtime;
  const limits = graphqlLimits(config.graphqlLimits);
  return attachSubscriptions({
    httpServer: app.server,
    // The same schema object as Apollo's: one SDL, one set of resolvers, one permission layer.
    schema: composed.schema,
    renderSharing: composed.renderSharing,
    config,
    clock,
    logger,
    auth: authenticationDeps(runtime, stores),
    revocations: stores.revocations,
    freshness,
    events: stores.infrastructure.events,
    services,
    database: runtime.database.driver,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    formatError: createFormatError(logger, { exposeStack: config.env === "development" }),
    dpopNonce: () => stores.nonces?.current() ?? null,
  });
}
