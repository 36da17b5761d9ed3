import type { Config } from "../../config/config.js";

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
