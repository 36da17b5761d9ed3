import type { FastifyCorsOptions } from "@fastify/cors";

/** Apollo Sandbox's origins: a browser IDE that sends the refresh cookie, so development only. */
export const SANDBOX_ORIGINS = [
  "https://sandbox.embed.apollographql.com",
  "https://studio.apollographql.com",
];

/**
 * CORS with an explicit allow-list. An origin on the list gets its own origin back and
 * `Access-Control-Allow-Credentials: true`; any other origin gets no CORS headers at all, so a
 * browser neither shows it the response nor sends it a credentialed preflight answer.
 * (@fastify/cors with `credentials: true` and an origin array would send the credentials header
 * to every origin; harmless without Allow-Origin, but a reviewer's scanner flags it, rightly.)
 */
export function corsOptions(config: { corsOrigins: readonly string[]; dev: boolean }): FastifyCorsOptions {
  const allowed = new Set([...config.corsOrigins, ...(config.dev ? SANDBOX_ORIGINS : [])]);
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
