import { createHash } from "node:crypto";

/** What the shared store needs from a Redis client: ioredis fits. */
export interface RedisCommandsLike {
  set(key: string, value: string, px: "PX", ttlMs: number, nx: "NX"): Promise<string | null>;
  disconnect(): void;
}

/**
 * Remembers DPoP proof ids (RFC 9449 §11.1) for as long as their proof could be accepted.
 * `remember` resolves true the first time, false for a replay.
 */
export interface ProofReplayStore {
  remember(id: string, untilSeconds: number): Promise<boolean>;
  close(): void;
}

const MEMORY_SWEEP_AT = 10_000;

/** This process only: a proof replayed to another replica is not caught. */
export function memoryProofReplayStore(nowMs: () => number): ProofReplayStore {
  const seen = new Map<string, number>();
  return {
    async remember(id, untilSeconds) {
      const nowSeconds = Math.floor(nowMs() / 1000);
      if (seen.size > MEMORY_SWEEP_AT) for (const [k, until] of seen) if (until < nowSeconds) seen.delete(k);
      const previous = seen.get(id);
      if (previous !== undefined && previous >= nowSeconds) return false;
      seen.set(id, untilSeconds);
      return true;
    },
    close() {},
  };
}

export interface SharedProofReplayStoreDeps {
  readonly redis: RedisCommandsLike;
  readonly keyPrefix: string;
  readonly nowMs: () => number;
  readonly onError: (error: unknown, context: string) => void;
}

/** Added to every TTL so that a replica whose clock lags still finds the entry. */
const CLOCK_SKEW_MARGIN_MS = 5_000;

/**
 * Shared by every replica through Redis, as Holdfast's own RedisReplayStore: `SET key 1 PX ttl NX` is
 * atomic, so of two replicas given the same proof exactly one accepts it. Keys hold a SHA-256 of the
 * id (bounded, nothing client-chosen in the keyspace). Every id is remembered in memory too; while
 * Redis does not answer, that memory alone decides (a replay to the same replica is still caught) and
 * `onError` is told — the same degradation Holdfast's own instances document.
 */
export function sharedProofReplayStore(deps: SharedProofReplayStoreDeps): ProofReplayStore {
  const local = memoryProofReplayStore(deps.nowMs);
  return {
    async remember(id, untilSeconds) {
      const fresh = await local.remember(id, untilSeconds);
      const ttlMs = Math.max(1, untilSeconds * 1000 - deps.nowMs()) + CLOCK_SKEW_MARGIN_MS;
      const key = deps.keyPrefix + createHash("sha256").update(id).digest("base64url");
      try {
        return fresh && (await deps.redis.set(key, "1", "PX", Math.ceil(ttlMs), "NX")) === "OK";
      } catch (error) {
        deps.onError(error, "dpop replay store");
        return fresh;
      }
    },
    close() {
      deps.redis.disconnect();
    },
  };
}
