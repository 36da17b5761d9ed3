import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Clock } from "../../clock.js";
import { ServiceUnavailableError } from "../../errors/app-error.js";
import { ReplayCacheFullError } from "./replay-cache-full-error.js";

/**
 * Remembers DPoP proof identifiers for as long as their proof could still be accepted
 * (RFC 9449 §11.1), so that a proof is used once.
 */
export interface ReplayStore {
  /**
   * Records `jti` until `expiresAt`. Resolves `true` the first time, `false` for a replay; rejects
   * with a ServiceUnavailableError (retryable) when it cannot remember it, never accepting unchecked.
   */
  remember(jti: string, expiresAt: Date): Promise<boolean>;
}

export interface ReplayStoreLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface MemoryReplayStoreOptions {
  /** Upper bound on remembered identifiers (default 100 000). */
  maxEntries?: number;
  /** Where "full" and "accepting again" are logged (one line per episode, not per refusal); pino fits. */
  logger?: ReplayStoreLogger;
}

/** Expired entries removed per call: keeps `remember` O(1) amortised. */
const SWEEP_BATCH = 64;

/**
 * One instance's replay cache. Bounded, and closed when full: past `maxEntries` unexpired
 * identifiers a new proof is refused with ReplayCacheFullError (retryable) until entries expire.
 * Forgetting an unexpired identifier instead would let a flood of fresh proofs make an earlier
 * proof replayable inside its window. `refusals` counts those refusals (the metric); the first of
 * each episode is logged. Use `RedisReplayStore` when several instances serve the same endpoint.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  /** jti → expiry in epoch ms; Map order is insertion order, roughly expiry order. */
  readonly #entries = new Map<string, number>();
  readonly #logger: ReplayStoreLogger | null;
  #refusals = 0;
  #full = false;
  /** A lower bound on the earliest expiry held: a full scan before it would free nothing. */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError("maxEntries must be a positive integer");
    this.#clock = clock;
    this.#maxEntries = maxEntries;
    this.#logger = options.logger ?? null;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Proofs refused because the cache was full, since start. */
  get refusals(): number {
    return this.#refusals;
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
      this.#prune(now);
      if (this.#entries.size >= this.#maxEntries) {
        this.#refusals += 1;
        if (!this.#full) {
          this.#full = true;
          this.#logger?.warn(
            { maxEntries: this.#maxEntries, refusals: this.#refusals },
            "DPoP replay cache full: refusing new proofs until entries expire",
          );
        }
        throw new ReplayCacheFullError();
      }
    }
    if (this.#full) {
      this.#full = false;
      this.#logger?.info({ refusals: this.#refusals }, "DPoP replay cache accepting proofs again");
    }
    this.#entries.set(jti, expiresAt.getTime());
    this.#earliestExpiry = Math.min(this.#earliestExpiry, expiresAt.getTime());
    return true;
  }

  /**
   * Drops every expired entry (insertion order is only roughly expiry order, so the head-first
   * sweep can stop early). O(n), so it runs only once something can have expired: a flood of
   * refused proofs does not rescan the whole cache each time.
   */
  #prune(now: number): void {
    if (now < this.#earliestExpiry) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [jti, expiresAt] of this.#entries) {
      if (expiresAt <= now) this.#entries.delete(jti);
      else earliest = Math.min(earliest, expiresAt);
    }
    this.#earliestExpiry = earliest;
  }

  /** Drops expired entries from the oldest on, stopping at the first live one or after a batch. */
  #sweep(now: number): void {
    let budget = SWEEP_BATCH;
    for (const [jti, expiresAt] of this.#entries) {
      if (expiresAt > now || budget-- <= 0) return;
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
