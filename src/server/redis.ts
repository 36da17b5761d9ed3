import { Redis } from "ioredis";
import type { Logger } from "pino";

/** Longest wait for one reply: Redis answers in well under a millisecond when it is well. */
const COMMAND_TIMEOUT_MS = 1000;
/** How often an idle connection proves that Redis still answers. */
const HEARTBEAT_MS = 1000;

/**
 * A Redis connection that fails fast while Redis is away (no offline queue, one retry), so a
 * request never hangs on it: callers fall back to memory or the database and say so in logs.
 * It keeps reconnecting in the background.
 *
 * A Redis that hangs rather than dies (stopped process, overload, black-holed network) keeps the
 * TCP connection open and the client "ready": without a bound every command would wait forever,
 * and the subscriber, which sends nothing, would never notice. So each command has a timeout, and
 * a heartbeat PING (allowed in subscriber mode too) drops a connection that stops answering: it
 * then reconnects, and until Redis answers again it is not "ready", so commands fail at once and
 * the instance runs on its fallbacks (memory, database polling).
 */
export function createRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: `holdfast-${name}`,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  const markDown = (message: string) => {
    if (!down) logger.warn({ err: { message }, connection: name }, "Redis unavailable");
    down = true;
  };
  redis.on("error", (error: Error) => markDown(error.message));
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "Redis reconnected");
    down = false;
  });
  const heartbeat = setInterval(() => {
    if (redis.status !== "ready") return;
    redis.ping().catch((error: unknown) => {
      if (redis.status !== "ready") return;
      markDown(error instanceof Error ? error.message : String(error));
      // Not disconnect(): it ends the socket politely and waits for a close that a hung peer
      // never sends. Destroying it lets the client reconnect at once.
      redis.stream?.destroy();
    });
  }, HEARTBEAT_MS);
  heartbeat.unref();
  redis.once("end", () => clearInterval(heartbeat));
  return redis;
}
