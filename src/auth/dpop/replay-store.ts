import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Clock } from "../../clock.js";
import { ServiceUnavailableError } from "../../errors/app-error.js";

/**
 * Remembers DPoP proof identifiers for as long as their proof could still be accepted
 * (RFC 9449 §11.1), so that a proof is used once.
 */
export interface ReplayStore {
  /** Records `jti` until `expiresAt`. Resolves `true` the first time, `false` for a replay. */
  remember(jti: string, expiresAt: Date): Promise<boolean>;
}

export interface MemoryReplayStoreOptions {
  /** Upper bound on remembered identifiers (default 100 000). */
  maxEntries?: number;
}

/** Expired entries removed per call: keeps `remember` O(1) amortised. */
const SWEEP_BATCH = 64;

/**
 * One instance's replay cache. Bounded: past `maxEntries` the oldest entry is forgotten (it is also
 * the closest to expiry, since every proof gets the same window), so a flood of fresh proofs cannot
 * exhaust memory. Use `RedisReplayStore` when several instances serve the same endpoint.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  /** jti → expiry in epoch ms; Map order is insertion order, roughly expiry order. */
  readonly #entries = new Map<string, number>();

  constructor(clock: Clock, options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError("maxEntries must be a positive integer");
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  async remember(jti: string, expiresAt: Date): Promise<boolean> {
    const now = this.#clock.now().getTime();
    this.#sweep(now);
    const seenUntil = this.#entries.get(jti);
    if (seenUntil !== undefined) {
      if (seenUntil > now) return false;
      this.#entries.delete(jti);
    }
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(jti, expiresAt.getTime());
    return true;
  }

  #sweep(now: number): void {
    let budget = SWEEP_BATCH;
    for (const [jti, expiresAt] of this.#entries) {
      if (expiresAt > now || budget-- === 0) return;
      this.#entries.delete(jti);
    }
  }
}

export interface RedisReplayStoreOptions {
  /** Key prefix (default `holdfast:dpop:jti:`); tests use a random one. */
  keyPrefix?: string;
  /** Added to every TTL so that an instance whose clock lags still finds the entry (default 5 000 ms). */
  clockSkewMarginMs?: number;
}

/**
 * Replay cache shared by every instance through Redis: `SET key 1 NX PX ttl` is atomic, so of two
 * instances receiving the same proof exactly one wins. Keys hold a SHA-256 of the identifier, never
 * the client-chosen value itself (bounded key size, nothing client-controlled in the keyspace).
 * Fails closed: when Redis cannot answer, the proof is not accepted.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #keyPrefix: string;
  readonly #marginMs: number;

  constructor(redis: Redis, clock: Clock, options: RedisReplayStoreOptions = {}) {
    this.#redis = redis;
    this.#clock = clock;
    this.#keyPrefix = options.keyPrefix ?? "holdfast:dpop:jti:";
    this.#marginMs = options.clockSkewMarginMs ?? 5_000;
  }

  /** The Redis key for an identifier (exposed for tests and operators). */
  keyFor(jti: string): string {
    return this.#keyPrefix + createHash("sha256").update(jti).digest("base64url");
  }

  async remember(jti: string, expiresAt: Date): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(expiresAt.getTime() - this.#clock.now().getTime())) + this.#marginMs;
    let reply: string | null;
    try {
      reply = await this.#redis.set(this.keyFor(jti), "1", "PX", ttlMs, "NX");
    } catch {
      throw new ServiceUnavailableError();
    }
    return reply === "OK";
  }
}
