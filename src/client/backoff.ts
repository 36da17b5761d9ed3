export interface RetryOptions {
  /** Attempts in all, the first included. Default 5. */
  readonly maxAttempts: number;
  /** Default 200. */
  readonly baseDelayMs: number;
  /** Default 5000. */
  readonly maxDelayMs: number;
}

export const defaultRetry: RetryOptions = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5000,
});

/**
 * The wait before retry number `retry` (1 for the first retry): exponential backoff with full jitter,
 * uniform in [0, min(maxDelayMs, baseDelayMs · 2^(retry-1))). Jitter keeps the clients that lost the
 * server at the same moment from all coming back at the same moment. A `Retry-After` from the server
 * raises the floor, never past `maxDelayMs`.
 */
export function backoffDelayMs(
  retry: number,
  options: RetryOptions,
  random: () => number,
  retryAfterMs: number | null = null,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(clampUnit(random()) * ceiling);
  return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, options.maxDelayMs));
}

function clampUnit(value: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
