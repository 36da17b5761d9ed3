import type { FastifyCorsOptions } from "@fastify/cors";
import { loopbackOrigins } from "../../auth/dpop/index.js";
import type { Config } from "../../config/config.js";

/** Apollo Sandbox's origins: a browser IDE that sends the refresh cookie, so development only. */
export const SANDBOX_ORIGINS = [
  "https://sandbox.embed.apollographql.com",
  "https://studio.apollographql.com",
];

/**
 * The browser origins whose pages may use this server with credentials: one list, for CORS and for
 * the WebSocket upgrade alike. The public URL's own origin and CORS_ORIGINS; in development also
 * the public URL's loopback aliases (a page opened at 127.0.0.1 is the same site as localhost) and
 * Apollo Sandbox.
 */
export function browserOrigins(config: Pick<Config, "env" | "server" | "http">): ReadonlySet<string> {
  const { publicUrl } = config.server;
  const dev = config.env === "development";
  return new Set([
    new URL(publicUrl).origin,
    ...config.http.corsOrigins,
    ...(dev ? [...loopbackOrigins(publicUrl, { loopbackAliases: true }), ...SANDBOX_ORIGINS] : []),
  ]);
}

/**
 * CORS with an explicit allow-list (`browserOrigins`). An origin on the list gets its own origin back and
 * `Access-Control-Allow-Credentials: true`; any other origin gets no CORS headers at all, so a
 * browser neither shows it the response nor sends it a credentialed preflight answer.
 * (@fastify/cors with `credentials: true` and an origin array would send the credentials header
 * to every origin; harmless without Allow-Origin, but a reviewer's scanner flags it, rightly.)
 */
export function corsOptions(allowed: ReadonlySet<string>): FastifyCorsOptions {
  return {
    // Exact match only: no wildcards, no "null" (sandboxed frames and file: pages send that).
    origin: async (origin: string | undefined) =>
      origin !== undefined && origin !== "null" && allowed.has(origin) ? origin : false,
    credentials: true,
    methods: ["GET", "POST", "OPTIONS"],
    allowedHeaders: [
      "content-type",
      "authorization",
      "dpop",
      "apollo-require-preflight",
      "x-apollo-operation-name",
    ],
    exposedHeaders: ["www-authenticate", "dpop-nonce", "date", "x-request-id"],
    maxAge: 600,
  };
}
