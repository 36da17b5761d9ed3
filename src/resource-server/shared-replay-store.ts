import {
  type ProofReplayStore,
  type RedisCommandsLike,
  sharedProofReplayStore,
} from "./proof-replay-store.js";
import type { RevocationFeedOptions } from "./revocation-state.js";

export interface SharedReplayStoreOptions {
  readonly revocations: RevocationFeedOptions | undefined;
  readonly dpopReplay:
    | {
        readonly redis?: RedisCommandsLike;
        readonly keyPrefix?: string;
      }
    | undefined;
  readonly nowMs: () => number;
  readonly onError: (error: unknown, context: string) => void;
}

/**
 * The proof-id store on the feed's Redis (or `dpopReplay.redis`), so a proof used at one replica is
 * refused at every other; null when there is no Redis and memory decides.
 */
export async function sharedReplayStore(options: SharedReplayStoreOptions): Promise<ProofReplayStore | null> {
  const { onError } = options;
  const commands = options.dpopReplay?.redis ?? (await replayConnection(options.revocations, onError));
  if (!commands) return null;
  const channel = options.revocations?.channel ?? "holdfast:security-events";
  const keyPrefix =
    options.dpopReplay?.keyPrefix ?? `${channel.replace(/security-events$/, "")}resource-server:dpop-jti:`;
  return sharedProofReplayStore({ redis: commands, keyPrefix, nowMs: options.nowMs, onError });
}

/** A command connection to the feed's Redis, or null (memory) when there is no feed on Redis. */
async function replayConnection(
  feed: RevocationFeedOptions | undefined,
  onError: (error: unknown, context: string) => void,
): Promise<RedisCommandsLike | null> {
  const redis = feed?.redis;
  if (!redis) return null;
  if ("subscriber" in redis) {
    const duplicate = (redis.subscriber as { duplicate?: () => RedisCommandsLike }).duplicate;
    if (typeof duplicate === "function") return duplicate.call(redis.subscriber);
    onError(
      new Error("the subscriber has no duplicate(): pass dpopReplay.redis to share DPoP proof ids"),
      "dpop replay store",
    );
    return null;
  }
  // start() already loaded ioredis for the feed (it rejects when it cannot).
  const { Redis } = await import("ioredis");
  // Fails fast rather than queueing: while Redis does not answer, this replica's memory decides.
  const client = new Redis(redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 1000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  client.on("error", (error) => onError(error, "dpop replay store"));
  // Not reachable within 3 s: start anyway (the feed or the poll is up), it keeps reconnecting.
  const timeout = new Promise((resolve) => setTimeout(resolve, 3000).unref?.());
  await Promise.race([client.connect().catch(() => {}), timeout]);
  return client;
}
