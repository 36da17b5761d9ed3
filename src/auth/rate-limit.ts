import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { Clock } from "../clock.js";
import type { Config } from "../config/config.js";
import { TooManyRequestsError } from "../errors/app-error.js";
import { AccountBackoff } from "./rate-limit/account-backoff.js";
import { clientKey } from "./rate-limit/client-key.js";
import { LimiterStore, type LimiterWarnings } from "./rate-limit/limiter-store.js";

export { accountKey } from "./rate-limit/account-backoff.js";
export { clientKey } from "./rate-limit/client-key.js";

/** Failures are remembered for a day from the first, unless a success clears them sooner. */
export const ACCOUNT_FAILURE_MEMORY_SECONDS = 86_400;

/** One login attempt that the limits let through; settle it once its outcome is known. */
export interface LoginAttempt {
  /** The password was right: the account's failures are forgotten; the IP is not charged. */
  succeeded(): Promise<void>;
  /** The password was wrong, or there is no such account: the attempt stays counted. */
  failed(): Promise<void>;
  /** No password was judged (the database was down, say): the attempt is given back. */
  abandoned(): Promise<void>;
}

/** The limits on the credential mutations, as the account flows see them. */
export interface AuthLimits {
  /** Throws TooManyRequestsError when either the account or the client is over its limit. */
  beginLogin(email: string, ip: string | null): Promise<LoginAttempt>;
  /** Throws TooManyRequestsError when the client registered too often. */
  register(ip: string | null): Promise<void>;
  /** Throws TooManyRequestsError when the client refreshed too often. */
  refresh(ip: string | null): Promise<void>;
  /** Throws TooManyRequestsError when the client asked for too many WebAuthn challenges. */
  passkeyChallenge(ip: string | null): Promise<void>;
  /** Throws TooManyRequestsError when the account or the client asked for too many registration options. */
  passkeyRegistration(userId: string, ip: string | null): Promise<void>;
}

/** Anonymous WebAuthn challenges per client per minute: each one is a database row for 2 minutes. */
export const PASSKEY_CHALLENGES_PER_IP_PER_MINUTE = 30;
/**
 * Passkey registration options per account per minute (each a challenge row for 2 minutes): a
 * person adding a passkey needs one or two; a copied token flooding the table gets this many.
 */
export const PASSKEY_REGISTRATIONS_PER_ACCOUNT_PER_MINUTE = 10;
/** The same per client, across accounts. */
export const PASSKEY_REGISTRATIONS_PER_IP_PER_MINUTE = 30;

export interface AuthRateLimitsOptions {
  config: Config["rateLimits"];
  clock: Clock;
  logger: LimiterWarnings;
  /** Counters shared by every instance; null counts in this process. */
  redis?: Redis | null;
  keyPrefix?: string;
  /** For tests: how long account failures are remembered. */
  failureMemorySeconds?: number;
}

/**
 * Brute-force and abuse limits with rate-limiter-flexible, counted per attempt (not per HTTP
 * request): per account with exponential back-off, per client for login failures, registrations
 * and refreshes. A limited attempt never reaches the database or argon2, so its answer and its
 * cost are the same whether or not the account exists.
 *
 * rate-limiter-flexible keeps its own time (Date.now in memory, the server's clock in Redis), so
 * windows and back-offs do not follow the injected Clock; only the fallback warning does.
 */
export class AuthRateLimits implements AuthLimits {
  readonly #account: AccountBackoff;
  readonly #loginByClient: RateLimiterAbstract;
  readonly #registerByClient: RateLimiterAbstract;
  readonly #refreshByClient: RateLimiterAbstract;
  readonly #challengeByClient: RateLimiterAbstract;
  readonly #registrationByAccount: RateLimiterAbstract;
  readonly #registrationByClient: RateLimiterAbstract;

  constructor(options: AuthRateLimitsOptions) {
    const { config } = options;
    const store = new LimiterStore({
      redis: options.redis ?? null,
      keyPrefix: options.keyPrefix ?? "holdfast:rl",
      clock: options.clock,
      logger: options.logger,
    });
    this.#account = new AccountBackoff(store, {
      freeFailures: config.loginFailuresPerAccount,
      backoffSeconds: config.loginBackoffSeconds,
      backoffMaxSeconds: config.loginBackoffMaxSeconds,
      failureMemorySeconds: options.failureMemorySeconds ?? ACCOUNT_FAILURE_MEMORY_SECONDS,
    });
    this.#loginByClient = store.limiter("login-client-failures", config.loginFailuresPerIpPerHour, 3600);
    this.#registerByClient = store.limiter("register-client", config.registerPerIpPerHour, 3600);
    this.#refreshByClient = store.limiter("refresh-client", config.refreshPerIpPerMinute, 60);
    this.#challengeByClient = store.limiter(
      "webauthn-challenge-client",
      PASSKEY_CHALLENGES_PER_IP_PER_MINUTE,
      60,
    );
    this.#registrationByAccount = store.limiter(
      "webauthn-registration-account",
      PASSKEY_REGISTRATIONS_PER_ACCOUNT_PER_MINUTE,
      60,
    );
    this.#registrationByClient = store.limiter(
      "webauthn-registration-client",
      PASSKEY_REGISTRATIONS_PER_IP_PER_MINUTE,
      60,
    );
  }

  async beginLogin(email: string, ip: string | null): Promise<LoginAttempt> {
    const client = clientKey(ip);
    // Charged up front and given back on success: the limit counts failures, yet a burst of
    // concurrent attempts cannot all pass before the first failure is recorded.
    await consumeOrThrow(this.#loginByClient, client);
    const account = await this.#account.attempt(email);
    if (!account.allowed) {
      await this.#loginByClient.reward(client, 1);
      throw new TooManyRequestsError(retryAfterSeconds(account.retryAfterMs));
    }
    let settled = false;
    const settle = async (action: () => Promise<unknown>) => {
      if (settled) return;
      settled = true;
      await action();
    };
    return {
      succeeded: () => settle(() => Promise.all([account.reset(), this.#loginByClient.reward(client, 1)])),
      failed: () => settle(async () => {}),
      abandoned: () => settle(() => Promise.all([account.release(), this.#loginByClient.reward(client, 1)])),
    };
  }

  async register(ip: string | null): Promise<void> {
    await consumeOrThrow(this.#registerByClient, clientKey(ip));
  }

  async refresh(ip: string | null): Promise<void> {
    await consumeOrThrow(this.#refreshByClient, clientKey(ip));
  }

  async passkeyChallenge(ip: string | null): Promise<void> {
    await consumeOrThrow(this.#challengeByClient, clientKey(ip));
  }

  async passkeyRegistration(userId: string, ip: string | null): Promise<void> {
    await consumeOrThrow(this.#registrationByClient, clientKey(ip));
    await consumeOrThrow(this.#registrationByAccount, userId);
  }
}

async function consumeOrThrow(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key, 1);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes)
      throw new TooManyRequestsError(retryAfterSeconds(rejection.msBeforeNext));
    throw rejection;
  }
}

/** Whole seconds, at least 1: "retry in 0 s" would invite a tight loop. */
function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
