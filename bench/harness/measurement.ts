/** What a scenario reports: one row of the results table. */
export interface Measurement {
  /** Successful operations per second over the measured window. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Operations completed in the measured window (successful or not). */
  readonly total: number;
  /** Socket errors, timeouts, and 2xx answers whose body was not the expected one (GraphQL errors). */
  readonly errors: number;
  readonly non2xx: number;
  /** A short note printed under the table (what was checked, what was loaded). */
  readonly note?: string;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
