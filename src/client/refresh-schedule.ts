export interface RefreshAheadOptions {
  /** Refresh once this fraction of the token's lifetime has passed. Default 0.8. */
  readonly fraction: number;
  /** …or once fewer seconds than this remain, whichever comes first. Default 10. */
  readonly minSecondsLeft: number;
}

export const defaultRefreshAhead: RefreshAheadOptions = Object.freeze({ fraction: 0.8, minSecondsLeft: 10 });

export interface RefreshSchedule {
  /** When the token expires, on the client's clock (ms). */
  readonly localExpiresAtMs: number;
  /** From when the next request refreshes first, on the client's clock (ms). */
  readonly refreshAtMs: number;
}

/**
 * Places a token's expiry on the client's clock. The lifetime is measured against the server's own
 * clock (its `Date` header) when it sent one, so a client clock that is minutes off neither refreshes on
 * every request nor lets tokens lapse; without it, the client's receive time stands in.
 */
export function refreshSchedule(
  expiresAt: Date,
  receivedAtMs: number,
  serverDateMs: number | null,
  options: RefreshAheadOptions,
): RefreshSchedule {
  const lifetimeMs = Math.max(0, expiresAt.getTime() - (serverDateMs ?? receivedAtMs));
  const localExpiresAtMs = receivedAtMs + lifetimeMs;
  const byFraction = receivedAtMs + Math.floor(lifetimeMs * options.fraction);
  const byMargin = localExpiresAtMs - options.minSecondsLeft * 1000;
  return { localExpiresAtMs, refreshAtMs: Math.max(receivedAtMs, Math.min(byFraction, byMargin)) };
}
