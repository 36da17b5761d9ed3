import type { FastifyInstance } from "fastify";
import { DEFAULT_DPOP_ALGORITHMS } from "../../auth/dpop/index.js";
import type { ScopeCatalogue } from "../../authz/scope-catalogue.js";
import type { Config } from "../../config/config.js";
import { noStore } from "./oauth-http.js";
import { OAUTH_PATHS } from "./oauth-paths.js";

export interface MetadataRoutesOptions {
  readonly config: Config;
  readonly scopes: ScopeCatalogue;
}

/** Discovery: authorization server (RFC 8414) and protected resource (RFC 9728) metadata. */
export function metadataRoutes(app: FastifyInstance, options: MetadataRoutesOptions): void {
  const { config } = options;
  const base = config.server.publicUrl;
  const dpopAlgs = [...DEFAULT_DPOP_ALGORITHMS];

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
}
