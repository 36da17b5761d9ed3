import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageProductionDefault } from "@apollo/server/plugin/landingPage/default";
import { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { createFormatError } from "../errors/format-error.js";
import type { GraphQLContext } from "../graphql/context.js";
import { singleCredentialOperation } from "../graphql/single-credential-operation.js";
import { dpopChallengePlugin } from "./challenge.js";
import type { ServerRuntime } from "./configuration.js";
import { sandboxLandingPage } from "./front-page/sandbox-landing-page.js";
import { resourceMetadataUrl } from "./oauth/oauth-routes.js";
import { graphqlLimits } from "./security/graphql-limits.js";
import { hideSuggestions } from "./security/hide-suggestions.js";
import { requestLogPlugin } from "./security/request-log.js";
import { serviceUnavailablePlugin } from "./service-unavailable-plugin.js";
import { stepUpChallengePlugin } from "./step-up-challenge.js";
import { websocketRequiredPlugin } from "./websocket-required-plugin.js";

/** Step 5 of `createServer`: Apollo Server with its limits and plugins, started (not yet mounted). */
export async function startApollo(
  app: FastifyInstance,
  { config, logger }: ServerRuntime,
  schema: GraphQLSchema,
): Promise<ApolloServer<GraphQLContext>> {
  const dev = config.env === "development";
  const queryLimits = graphqlLimits(config.graphqlLimits);
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    fastifyApolloDrainPlugin(app),
    // Per-user responses are never cacheable; the plugin's bookkeeping costs ~40% of a large list.
    ApolloServerPluginCacheControlDisabled(),
    // DPoP refusals that only a resolver can make (a bound refresh family) still answer 401 + challenge.
    dpopChallengePlugin(resourceMetadataUrl(config)),
    // RFC 9470: an operation refused whole for want of a recent authentication is a 401 + challenge.
    stepUpChallengePlugin(),
    websocketRequiredPlugin(),
    // With the IDE on, Apollo's landing page is what `/graphql?sandbox` shows (ide-routes.ts).
    dev || config.http.ide
      ? sandboxLandingPage({
          endpointUrl: `${config.server.publicUrl}${config.server.graphqlPath}`,
          demo: config.http.demo,
        })
      : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
    requestLogPlugin(),
    queryLimits.plugin,
    // Sandbox wants "Did you mean …" in development; production keeps its schema to itself.
    ...(dev ? [] : [hideSuggestions()]),
    // A response whose only errors are SERVICE_UNAVAILABLE (database down) is an HTTP 503 with Retry-After.
    serviceUnavailablePlugin(),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
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
  return apollo;
}
