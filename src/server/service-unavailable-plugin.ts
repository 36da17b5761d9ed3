import type { ApolloServerPlugin, BaseContext } from "@apollo/server";

export interface ServiceUnavailablePluginOptions {
  /** Sent as `Retry-After` (RFC 9110 §10.2.3); a client that honours it backs off this long at least. */
  retryAfterSeconds?: number;
}

/**
 * A response whose every error is SERVICE_UNAVAILABLE (the database is down while `refresh`, `login`
 * or a data field ran) answers HTTP 503 with `Retry-After`, not 200: load balancers, proxies and
 * clients that look at the status alone then retry instead of treating the answer as final. Apollo
 * only takes an HTTP status from errors of the context phase, so resolver errors need this hook.
 * A response that also carries another error (UNAUTHENTICATED, FORBIDDEN, …) keeps its status:
 * retrying would not help it.
 */
export function serviceUnavailablePlugin<TContext extends BaseContext>(
  options: ServiceUnavailablePluginOptions = {},
): ApolloServerPlugin<TContext> {
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          // Formatted errors: formatError has already run and kept the typed code.
          const errors = response.body.singleResult.errors;
          if (!errors || errors.length === 0) return;
          if (!errors.every((error) => error.extensions?.code === "SERVICE_UNAVAILABLE")) return;
          response.http.status = 503;
          response.http.headers.set("retry-after", retryAfter);
        },
      };
    },
  };
}
