import DataLoader from "dataloader";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type Authentication, authenticate } from "../auth/authenticate.js";
import { verifyDpopProof } from "../auth/dpop/index.js";
import { AppError, UnauthenticatedError } from "../errors/app-error.js";
import { toGraphQLError } from "../errors/format-error.js";
import { httpEvents } from "../events/index.js";
import type { GraphQLContext, Services } from "../graphql/context.js";
import { challengeHeaders } from "./challenge.js";
import type { ServerRuntime } from "./configuration.js";
import { resourceMetadataUrl } from "./oauth/oauth-routes.js";
import { refreshCookieFor } from "./refresh-cookie.js";
import type { ServerStores } from "./stores.js";

/** Every header value of `name`, as sent: Node folds some duplicates, rawHeaders keeps them all. */
function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}

export type ContextFunction = (request: FastifyRequest, reply: FastifyReply) => Promise<GraphQLContext>;

/**
 * What `authenticate` needs, shared by HTTP requests and WebSocket connections (one verifier, one
 * replay store, one revocation set). DPoP proofs are checked against the endpoint's public URL.
 */
export function authenticationDeps(
  { config, clock }: ServerRuntime,
  { verifier, revocations, infrastructure, nonces }: ServerStores,
): Parameters<typeof authenticate>[1] {
  const endpointUrl = `${config.server.publicUrl}${config.server.graphqlPath}`;
  const proofs = {
    verify: (input: {
      headerValues: readonly string[];
      method: string;
      accessToken?: string;
      expectedJkt?: string;
    }) =>
      verifyDpopProof(
        { ...input, url: endpointUrl },
        {
          clock,
          replayStore: infrastructure.replayStore,
          nonces,
          iatWindowSeconds: config.dpop.iatWindowSeconds,
          loopbackAliases: config.env === "development",
        },
      ),
  };
  return { tokens: verifier, proofs, revocations, dpopRequired: config.dpop.required };
}

/** Builds each request's GraphQL context: authenticate the headers, then hand resolvers their services. */
export function graphqlContext(
  runtime: ServerRuntime,
  stores: ServerStores,
  services: Services,
): ContextFunction {
  const { config } = runtime;
  const auth = authenticationDeps(runtime, stores);
  const refreshCookie = refreshCookieFor(config);
  const events = httpEvents(stores.infrastructure.events);

  return async (request, reply) => {
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
        auth,
      );
    } catch (error) {
      if (error instanceof UnauthenticatedError) {
        const usedDpop = /^dpop /i.test(authorization[0] ?? "");
        throw toGraphQLError(error, {
          headers: challengeHeaders(error, usedDpop, resourceMetadataUrl(config)),
        });
      }
      if (error instanceof AppError) throw toGraphQLError(error, {});
      throw error;
    }
    const users = new DataLoader((ids: readonly string[]) => services.users.findManyByIds(ids));
    return {
      viewer: authentication.viewer,
      proofJkt: authentication.proofJkt,
      client: { ip: request.ip ?? null, userAgent: request.headers["user-agent"] ?? null },
      services,
      refreshCookie: refreshCookie(request, reply),
      loaders: { user: users },
      users,
      events,
      stepUp: { maxAgeSeconds: config.stepUp.maxAgeSeconds, clock: runtime.clock },
      database: runtime.database.driver,
      clock: runtime.clock,
    };
  };
}
