import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";
import type { RefreshCookie } from "../graphql/context.js";

/** The refresh cookie of one request: `HttpOnly; Secure; SameSite=Strict`, `__Host-` pinned to `/`. */
export function refreshCookieFor(config: Config) {
  const { cookieName } = config.refresh;
  const secure = true;
  const path = cookieName.startsWith("__Host-") ? "/" : config.server.graphqlPath;
  return (request: FastifyRequest, reply: FastifyReply): RefreshCookie => ({
    read: () => request.cookies[cookieName] ?? null,
    set: (token, expiresAt) =>
      void reply.setCookie(cookieName, token, {
        httpOnly: true,
        // Browsers treat http://localhost as a secure context, so __Host- works in development too.
        secure,
        sameSite: "strict",
        path,
        expires: expiresAt,
      }),
    clear: () => void reply.clearCookie(cookieName, { httpOnly: true, secure, sameSite: "strict", path }),
  });
}
