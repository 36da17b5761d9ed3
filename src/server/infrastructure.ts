import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { FallbackReplayStore } from "../auth/dpop/fallback-replay-store.js";
import { MemoryReplayStore, RedisReplayStore, type ReplayStore } from "../auth/dpop/replay-store.js";
import { RedisRevocationBus } from "../auth/sessions/redis-revocation-bus.js";
import { InProcessRevocationBus, type RevocationBus } from "../auth/sessions/revocation.js";
import { RevocationChannelSigner } from "../auth/sessions/revocation-channel-signer.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config/config.js";
import { type EventBus, InProcessEventBus, RedisEventBus } from "../events/index.js";
import { createRedis } from "./redis.js";

/**
 * What is shared between instances when Redis is configured, and kept in-process otherwise:
 * the revocation bus and the DPoP replay store (the rate limiter takes `redis` as well).
 */
export interface Infrastructure {
  readonly bus: RevocationBus;
  readonly replayStore: ReplayStore;
  /** Topic events (context.events): in process, or between instances over Redis pub/sub. */
  readonly events: EventBus;
  /** The command connection, or null on the embedded default. */
  readonly redis: Redis | null;
  /** Whether revocations reach this instance by pub/sub now; when false, the caller polls the database. */
  busHealthy(): boolean;
  /** Readiness entries: `redis` only when configured. */
  health(): Record<string, "ok" | "down" | "pubsub" | "polling">;
  /** Readiness details: counters an operator watches (messages refused on the revocation channel). */
  details(): Record<string, unknown>;
  /** Registers what to do when revocations may have been missed (Redis came back). */
  onResync(listener: () => void): void;
  close(): Promise<void>;
}

const CONNECT_WAIT_MS = 3000;

export async function createInfrastructure(
  config: Config,
  clock: Clock,
  logger: Logger,
): Promise<Infrastructure> {
  const local = new MemoryReplayStore(clock, { maxEntries: config.dpop.replayCacheMaxEntries, logger });
  if (!config.redis) {
    const bus = new InProcessRevocationBus();
    const events = new InProcessEventBus();
    return {
      bus,
      replayStore: local,
      events,
      redis: null,
      busHealthy: () => config.database.provider === "sqlite",
      health: () => ({}),
      details: () => ({}),
      onResync: () => {},
      close: async () => {
        await bus.close();
        await events.close();
      },
    };
  }
  const redis = createRedis(config.redis.url, logger, "commands");
  const subscriber = createRedis(config.redis.url, logger, "revocations");
  const channel = `${config.redis.keyPrefix}revocations`;
  if (config.redis.channelSecret === null) {
    // Only outside production (the config refuses it there).
    logger.warn(
      "REVOCATION_CHANNEL_SECRET is not set: the revocation channel is signed with a public development key, so anyone who can write to Redis can revoke sessions",
    );
  }
  const signer = new RevocationChannelSigner(config.redis.channelSecret, channel);
  const bus = new RedisRevocationBus(redis, subscriber, logger, signer, channel);
  const eventSubscriber = createRedis(config.redis.url, logger, "events");
  const events = new RedisEventBus(redis, eventSubscriber, logger, `${config.redis.keyPrefix}events`);
  // Start degraded rather than not at all: the poller covers revocations until Redis answers.
  await Promise.race([
    Promise.all([
      bus
        .start()
        .catch((error: unknown) =>
          logger.warn({ err: error }, "Redis unavailable at start: revocations by polling"),
        ),
      // Logged by the bus itself when an event cannot be published.
      events.start().catch(() => {}),
    ]),
    new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref()),
  ]);
  return {
    bus,
    replayStore: new FallbackReplayStore(
      new RedisReplayStore(redis, clock, { keyPrefix: `${config.redis.keyPrefix}dpop:jti:` }),
      local,
      logger,
    ),
    events,
    redis,
    busHealthy: () => bus.healthy,
    // End to end (heartbeats come back over the channel), not only a connection that answers PING.
    health: () => ({ redis: bus.healthy ? "ok" : "down", revocations: bus.healthy ? "pubsub" : "polling" }),
    details: () => ({ revocationChannel: { rejectedMessages: bus.rejectedMessages } }),
    onResync: (listener) => bus.onResync(listener),
    async close() {
      await bus.close();
      await events.close();
      redis.disconnect();
      subscriber.disconnect();
      eventSubscriber.disconnect();
    },
  };
}
