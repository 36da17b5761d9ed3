import type { FastifyReply, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterRes } from "rate-limiter-flexible";
import { OAuthClients } from "../../auth/oauth/oauth-clients.js";
import { LimiterStore } from "../../auth/rate-limit/limiter-store.js";
import { clientKey } from "../../auth/rate-limit.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import { headerValues, noStore } from "./oauth-http.js";

/**
 * Client authentication and the limits: the client id, null for a public client when that is
 * allowed, undefined when the reply (401 or 429) was already sent.
 */
export type AuthenticateClient = (
  request: FastifyRequest,
  reply: FastifyReply,
  required: boolean,
) => Promise<string | null | undefined>;

export interface ClientAuthenticationOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly redis: Redis | null;
}

/** One authenticator shared by the OAuth endpoints, so their limits count together. */
export function clientAuthentication(options: ClientAuthenticationOptions): AuthenticateClient {
  const { config, clock, logger } = options;
  const clients = new OAuthClients(config.oauth.clients);
  const store = new LimiterStore({
    redis: options.redis,
    keyPrefix: `${config.redis?.keyPrefix ?? "holdfast:"}rl`,
    clock,
    logger,
  });
  const perClient = store.limiter("oauth-client", config.oauth.perClientPerMinute, 60);
  const failuresByIp = store.limiter("oauth-failures", config.oauth.failuresPerIpPerMinute, 60);
  const publicByIp = store.limiter("oauth-public", config.oauth.perClientPerMinute, 60);

  return async (request, reply, required) => {
    const auth = clients.authenticate(headerValues(request, "authorization"));
    if (auth.kind === "client") {
      if (!(await consume(perClient, `client:${auth.clientId}`, reply))) return undefined;
      return auth.clientId;
    }
    if (auth.kind === "none" && !required) {
      if (!(await consume(publicByIp, clientKey(request.ip ?? null), reply))) return undefined;
      return null;
    }
    // Failures count per address, before they are answered, so guessing secrets is slow.
    if (!(await consume(failuresByIp, clientKey(request.ip ?? null), reply))) return undefined;
    noStore(reply)
      .code(401)
      .header("www-authenticate", 'Basic realm="holdfast"')
      .send({ error: "invalid_client" });
    return undefined;
  };
}

async function consume(
  limiter: ReturnType<LimiterStore["limiter"]>,
  key: string,
  reply: FastifyReply,
): Promise<boolean> {
  try {
    await limiter.consume(key, 1);
    return true;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    noStore(reply)
      .code(429)
      .header("retry-after", String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))))
      .send({ error: "too_many_requests" });
    return false;
  }
}
