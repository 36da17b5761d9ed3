import { createHash } from "node:crypto";
import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { normalizeEmail } from "../../users/user-service.js";
import type { LimiterStore } from "./limiter-store.js";

export interface AccountBackoffConfig {
  /** Wrong passwords allowed before the back-off starts. */
  freeFailures: number;
  /** The first back-off; each further failure doubles it. */
  backoffSeconds: number;
  backoffMaxSeconds: number;
  /** How long failures are remembered, counted from the first one. */
  failureMemorySeconds: number;
}

/** The outcome of asking for one login attempt against one account. */
export type AccountDecision =
  | { allowed: true; release(): Promise<void>; reset(): Promise<void> }
  | { allowed: false; retryAfterMs: number };

/**
 * Per-account brute-force limit with exponential back-off. `freeFailures` attempts are checked
 * freely; from then on one attempt is let through per back-off window (base, 2×, 4×, … capped),
 * each window starting at the attempt it let through. A success forgets everything.
 *
 * Every attempt is counted before its password is checked, so concurrent attempts cannot all
 * slip in under the limit: the count is an atomic increment, and the one attempt per window is
 * the one that opened the window (an atomic create-if-absent on the gate key). Attempts that
 * are turned away are given back, so only checked passwords move the back-off.
 *
 * The key is a hash of the normalised email, whether or not such an account exists: the limit
 * looks the same for both, and Redis never holds an address in clear.
 */
export class AccountBackoff {
  readonly #failures: RateLimiterAbstract;
  readonly #gate: RateLimiterAbstract;

  constructor(
    store: LimiterStore,
    private readonly config: AccountBackoffConfig,
  ) {
    this.#failures = store.limiter(
      "login-account-failures",
      config.freeFailures,
      config.failureMemorySeconds,
    );
    // One attempt per window; the window's length is chosen when the attempt opens it.
    this.#gate = store.limiter("login-account-gate", 1, config.backoffMaxSeconds);
  }

  async attempt(email: string): Promise<AccountDecision> {
    const key = accountKey(email);
    const counted = await this.#failures.penalty(key, 1);
    const n = counted.consumedPoints;
    if (n >= this.config.freeFailures) {
      const level = n - this.config.freeFailures + 1;
      try {
        await this.#gate.consume(key, 1, { customDuration: this.backoffSeconds(level) });
      } catch (rejection) {
        await this.#failures.reward(key, 1);
        if (rejection instanceof RateLimiterRes)
          return { allowed: false, retryAfterMs: rejection.msBeforeNext };
        throw rejection;
      }
    }
    return {
      allowed: true,
      release: async () => {
        await this.#failures.reward(key, 1);
        if (n >= this.config.freeFailures) await this.#gate.delete(key);
      },
      reset: async () => {
        await Promise.all([this.#failures.delete(key), this.#gate.delete(key)]);
      },
    };
  }

  /** The wait after the `level`-th back-off failure: base × 2^(level−1), capped. */
  backoffSeconds(level: number): number {
    const { backoffSeconds, backoffMaxSeconds } = this.config;
    return Math.min(backoffMaxSeconds, backoffSeconds * 2 ** Math.min(level - 1, 30));
  }
}

/** A stable key per account name (not per account: unknown emails are limited too). */
export function accountKey(email: string): string {
  return createHash("sha256").update(normalizeEmail(email)).digest("base64url");
}
