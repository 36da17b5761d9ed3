import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A Redis connection that fails fast while Redis is away (no offline queue, one retry), so a
 * request never hangs on it: callers fall back to memory or the database and say so in logs.
 * It keeps reconnecting in the background.
 */
export function createRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: `holdfast-${name}`,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on("error", (error: Error) => {
    if (!down) logger.warn({ err: { message: error.message }, connection: name }, "Redis unavailable");
    down = true;
  });
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "Redis reconnected");
    down = false;
  });
  return redis;
}
