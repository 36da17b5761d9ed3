import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { KeyStore } from "../keys/key-store.js";
import type { RevocationBus } from "./revocation.js";
import {
  type CredentialChangeFeed,
  signCredentialChange,
  withSecurityEventFeed,
} from "./security-event-feed.js";

/** The Redis channel resource servers subscribe to: `<REDIS_KEY_PREFIX>security-events`. */
export function securityEventChannel(keyPrefix: string): string {
  return `${keyPrefix}security-events`;
}

/**
 * With Redis: the bus, plus each revocation as a signed SET on the security-events channel. Without
 * Redis there is no feed to share; other services poll `/oauth/revoked-sessions` instead.
 */
export function securityEventFeed(
  bus: RevocationBus,
  deps: {
    keys: Pick<KeyStore, "signingKey">;
    clock: Clock;
    config: Config;
    redis: Redis | null;
    logger: Logger;
  },
): RevocationBus {
  const { redis, config, logger } = deps;
  if (!redis || !config.redis) return bus;
  const channel = securityEventChannel(config.redis.keyPrefix);
  return withSecurityEventFeed(
    bus,
    { keys: deps.keys, clock: deps.clock, issuer: config.tokens.issuer, audience: config.tokens.audience },
    {
      publish: async (set) => {
        await redis.publish(channel, set);
      },
    },
    (error) =>
      logger.warn(
        { err: error instanceof Error ? { message: error.message } : error },
        "security event not published; resource servers catch up by polling",
      ),
  );
}

/**
 * With Redis: credential changes (a passkey added or removed) as signed CAEP SETs on the same
 * channel, so a service following the feed hears of a new way into an account. Without Redis there
 * is no feed: the audit log and the console's sessions panel still show it.
 */
export function credentialChangeFeed(deps: {
  keys: Pick<KeyStore, "signingKey">;
  clock: Clock;
  config: Config;
  redis: Redis | null;
  logger: Logger;
}): CredentialChangeFeed {
  const { redis, config, logger } = deps;
  if (!redis || !config.redis) return { announce: async () => {} };
  const channel = securityEventChannel(config.redis.keyPrefix);
  const signer = {
    keys: deps.keys,
    clock: deps.clock,
    issuer: config.tokens.issuer,
    audience: config.tokens.audience,
  };
  return {
    async announce(change) {
      try {
        await redis.publish(channel, await signCredentialChange(signer, change));
      } catch (error) {
        // Reported, never allowed to undo the change: the audit log has it either way.
        logger.warn(
          { err: error instanceof Error ? { message: error.message } : error },
          "credential change not published on the security event feed",
        );
      }
    },
  };
}
