import type { FastifyInstance } from "fastify";

/**
 * For the demo page: its own files only, and calls to this origin only, so an injected script has
 * nowhere to load from and nowhere to send a token. No inline script or style: the page has none.
 */
export const DEMO_CSP =
  "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/**
 * For the IDE (GET /graphql and /ide/*): its own scripts and workers, calls to this origin only (HTTP
 * and WebSocket). Styles may be inline: Monaco writes its theme and layout into <style> elements at
 * run time; scripts may not.
 */
export const IDE_CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; " +
  "style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** For the front page `/`: static HTML that loads nothing and runs nothing. */
export const FRONT_PAGE_CSP =
  "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** For JSON: nothing may load from it, and nothing may frame it. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export interface SecurityHeadersOptions {
  /** HSTS only when the public URL is https (RFC 6797 §7.2: not over plain HTTP). */
  https: boolean;
  /** Path prefix of the demo page. */
  demoPath?: string;
  /** Path prefix of the IDE's assets (its page, at the GraphQL path, sets its own CSP). */
  idePath?: string;
}

/**
 * Headers on every response, errors and 404s included. Responses are per caller and may carry
 * tokens: `no-store` unless a route chose its own caching (the JWKS does). Apollo's landing page
 * (HTML that loads Apollo's CDN) gets no CSP; the demo page gets a strict one.
 */
export function installSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): void {
  const demoPath = options.demoPath ?? "/demo";
  const idePath = options.idePath ?? "/ide";
  app.addHook("onSend", async (request, reply, payload) => {
    if (!reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
    void reply.header("x-content-type-options", "nosniff");
    void reply.header("referrer-policy", "no-referrer");
    void reply.header("x-frame-options", "DENY");
    const path = request.url.split("?", 1)[0] ?? "";
    const type = String(reply.getHeader("content-type") ?? "");
    if (path === demoPath || path.startsWith(`${demoPath}/`))
      void reply.header("content-security-policy", DEMO_CSP);
    else if (path.startsWith(`${idePath}/`)) void reply.header("content-security-policy", IDE_CSP);
    else if (!type.startsWith("text/html")) void reply.header("content-security-policy", API_CSP);
    if (options.https) void reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
    return payload;
  });
}
