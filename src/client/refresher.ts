import { backoffDelayMs, parseRetryAfter, type RetryOptions } from "./backoff.js";
import type { ClientClock, ClientTimers } from "./client-types.js";
import { errorOf, type Operation } from "./graphql-exchange.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import { type AuthPayloadFields, RefreshDocument } from "./operations.js";
import type { RefreshLock } from "./refresh-lock.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import type { SessionHolder, TokenState } from "./session-holder.js";
import type { Transport } from "./transport.js";

/** How a refresh that ran out of attempts ends. */
export type RefreshMode =
  /** Ahead of expiry: keep using a still-valid token, try again later. */
  | "ahead"
  /** Asked for: report the failure, keep a still-valid token. */
  | "forced"
  /** The server refused the token: without a new one the session is over. */
  | "replace";

/** The server ends the session on these; refreshing again cannot help. */
export const SESSION_ENDING_REASONS: ReadonlySet<string> = new Set([
  "refresh_token_reused",
  "token_revoked",
  "invalid_refresh_token",
]);

export interface RefresherOptions {
  readonly session: SessionHolder;
  readonly transport: Transport;
  readonly lock: RefreshLock;
  readonly clock: ClientClock;
  readonly timers: ClientTimers;
  readonly random: () => number;
  readonly retry: RetryOptions;
  readonly refreshTokenStore: RefreshTokenStore | null;
}

export interface Refresher {
  /**
   * Single-flight: every caller during a refresh waits for the same one, and holders that share the
   * lock take turns, so one refresh serves them all. `stale` is the token the caller found due.
   */
  refresh(stale: TokenState | null, mode: RefreshMode): Promise<TokenState>;
}

export function createRefresher(options: RefresherOptions): Refresher {
  const { session, transport, clock, retry } = options;
  let inFlight: Promise<TokenState> | null = null;

  function refresh(stale: TokenState | null, mode: RefreshMode): Promise<TokenState> {
    if (!inFlight) {
      inFlight = refreshUnderLock(stale, mode).finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  function refreshUnderLock(stale: TokenState | null, mode: RefreshMode): Promise<TokenState> {
    const startEpoch = session.epoch;
    return options.lock.run(async () => {
      session.assertSame(startEpoch);
      const current = session.current;
      // Another holder refreshed while we waited for the lock; its message already replaced the token.
      if (current && current !== stale && clock.now() < current.refreshAtMs) return current;
      return refreshWithRetries(startEpoch, mode);
    });
  }

  async function refreshWithRetries(startEpoch: number, mode: RefreshMode): Promise<TokenState> {
    let refreshToken: string | null = null;
    if (options.refreshTokenStore) {
      refreshToken = await options.refreshTokenStore.get();
      if (!refreshToken) return refused("invalid_refresh_token", null);
    }
    const operation: Operation = {
      query: RefreshDocument.query,
      operationName: RefreshDocument.operationName,
      variables: refreshToken ? { refreshToken } : {},
    };
    for (let attempt = 1; ; attempt++) {
      let failure: HoldfastClientError;
      let retryAfterMs: number | null = null;
      try {
        const exchange = await transport.send(operation, null, true);
        const payload = exchange.body?.data?.refresh as AuthPayloadFields | null | undefined;
        if (payload && !exchange.body?.errors?.length)
          return await session.adopt(payload, exchange, startEpoch);
        failure = errorOf(exchange);
        retryAfterMs = parseRetryAfter(exchange.headers.get("retry-after"), clock.now());
      } catch (error) {
        if (!(error instanceof HoldfastClientError) || error.code !== "NETWORK_ERROR") throw error;
        failure = error;
      }
      if (!failure.retryable) return refused(failure.reason ?? "refresh_failed", failure);
      if (attempt >= retry.maxAttempts) return exhausted(mode, failure);
      await sleep(backoffDelayMs(attempt, retry, options.random, retryAfterMs));
      session.assertSame(startEpoch);
    }
  }

  /** The server said no for good: the session is over. */
  async function refused(reason: string, failure: HoldfastClientError | null): Promise<never> {
    await session.lose(reason, SESSION_ENDING_REASONS.has(reason) || failure === null);
    throw new HoldfastClientError("SESSION_LOST", "The session has ended", {
      reason,
      status: failure?.status,
      errors: failure?.errors ?? [],
    });
  }

  /** Every attempt failed on the network or the server's side. */
  async function exhausted(mode: RefreshMode, failure: HoldfastClientError): Promise<TokenState> {
    const current = session.current;
    const stillValid = current !== null && clock.now() < current.localExpiresAtMs;
    if (current && stillValid && mode !== "replace") {
      // The token still works: keep it, and let a later request try again after a pause.
      session.set({
        ...current,
        refreshAtMs: Math.min(clock.now() + retry.maxDelayMs, current.localExpiresAtMs),
      });
      if (mode === "ahead") return current;
      throw failure;
    }
    if (!current) throw failure;
    await session.lose("refresh_failed", false);
    throw new HoldfastClientError("SESSION_LOST", "The session could not be refreshed", {
      reason: "refresh_failed",
      status: failure.status,
      retryable: true,
      cause: failure,
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => options.timers.setTimeout(resolve, ms));
  }

  return Object.freeze({ refresh });
}

/**
 * The optional refresh timer (`refreshTimer: true`): refreshes when the token falls due even if no
 * request asks, rescheduled on every token change.
 */
export function startRefreshTimer(
  session: SessionHolder,
  refresher: Refresher,
  clock: ClientClock,
  timers: ClientTimers,
): () => void {
  let timer: unknown = null;
  const cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  const stop = session.onChange((state) => {
    cancel();
    if (!state || session.destroyed) return;
    timer = timers.setTimeout(
      () => {
        timer = null;
        if (session.current === state) refresher.refresh(state, "ahead").catch(() => undefined);
      },
      Math.max(0, state.refreshAtMs - clock.now()),
    );
  });
  return () => {
    stop();
    cancel();
  };
}
