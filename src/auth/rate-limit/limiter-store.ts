import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterRes,
} from "rate-limiter-flexible";
import type { Clock } from "../../clock.js";

/** What the limits need from a logger: a warning when they count in memory instead of Redis. */
export interface LimiterWarnings {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface LimiterStoreOptions {
  /** Shared counters across instances; null counts in this process's memory. */
  redis: Redis | null;
  /** Namespaces the keys (tests give each run its own). */
  keyPrefix: string;
  clock: Clock;
  logger: LimiterWarnings;
}

type LimiterOptions = ConstructorParameters<typeof RateLimiterMemory>[0];

// One warning a minute is enough to page someone; one per request would flood the log.
const WARNING_INTERVAL_MS = 60_000;

/**
 * Makes the counters behind every limit: in memory on the embedded default, in Redis when
 * configured (so a limit holds across instances). While Redis is away a Redis-backed counter
 * falls back to memory (rate-limiter-flexible's insuranceLimiter), with a logged warning: limits
 * then hold per instance rather than not at all.
 */
export class LimiterStore {
  #lastWarningMs: number | null = null;

  constructor(private readonly options: LimiterStoreOptions) {}

  get shared(): boolean {
    return this.options.redis !== null;
  }

  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    const settings: LimiterOptions = {
      keyPrefix: `${this.options.keyPrefix}:${name}`,
      points,
      duration: durationSeconds,
    };
    const { redis } = this.options;
    if (!redis) return new RateLimiterMemory(settings);
    return new RateLimiterRedis({
      ...settings,
      storeClient: redis,
      // Without this a command waits for a reconnect; with it the insurance answers at once.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new FallbackMemoryLimiter(settings, () => this.#warn(name)),
    });
  }

  #warn(limit: string): void {
    const now = this.options.clock.now().getTime();
    if (this.#lastWarningMs !== null && now - this.#lastWarningMs < WARNING_INTERVAL_MS) return;
    this.#lastWarningMs = now;
    this.options.logger.warn(
      { limit },
      "rate limit store unavailable: counting in this instance's memory until Redis is back",
    );
  }
}

/** A memory limiter that reports each use: it is only used when the Redis store failed. */
class FallbackMemoryLimiter extends RateLimiterMemory {
  constructor(
    options: LimiterOptions,
    private readonly onUse: () => void,
  ) {
    super(options);
  }
  override consume(key: string | number, points?: number, options?: Record<string, unknown>) {
    this.onUse();
    return super.consume(key, points, options);
  }
  override penalty(key: string | number, points?: number, options?: Record<string, unknown>) {
    this.onUse();
    return super.penalty(key, points, options);
  }
  override reward(key: string | number, points?: number, options?: Record<string, unknown>) {
    this.onUse();
    return super.reward(key, points, options);
  }
  override get(key: string | number, options?: Record<string, unknown>): Promise<RateLimiterRes | null> {
    this.onUse();
    return super.get(key, options);
  }
  override delete(key: string | number, options?: Record<string, unknown>) {
    this.onUse();
    return super.delete(key, options);
  }
}
