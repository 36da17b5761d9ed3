/** What one load slice saw. */
export interface Sample {
  /** Operations whose answer was the expected one. */
  readonly ok: number;
  /** Of the ok operations, in milliseconds. */
  readonly latenciesMs: readonly number[];
  /** Socket errors, timeouts, and 2xx answers whose body was not the expected one (GraphQL errors). */
  readonly errors: number;
  readonly non2xx: number;
  /** Wall time of the slice. */
  readonly seconds: number;
  /** CPU time the scenario's server process(es) used during the slice (set by the harness). */
  readonly serverCpuSeconds?: number;
}

/** One row of the results table: a scenario's slices taken together. */
export interface Measurement {
  /** Median of the per-slice rates of ok operations: one burst of outside noise moves it little. */
  readonly perSecond: number;
  /** Rate of each slice, in the order measured: slice i of every scenario ran in the same turn. */
  readonly sliceRates: readonly number[];
  readonly slowestSlice: number;
  readonly fastestSlice: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time per ok operation over all slices, in microseconds: robust to a crowded machine. */
  readonly cpuUsPerOp: number;
  readonly ok: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(samples: readonly Sample[]): Measurement {
  const rates = samples.map((s) => s.ok / s.seconds);
  const latencies = samples.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const ok = samples.reduce((n, s) => n + s.ok, 0);
  return {
    perSecond: median(rates),
    sliceRates: rates,
    slowestSlice: Math.min(...rates),
    fastestSlice: Math.max(...rates),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerOp: (samples.reduce((t, s) => t + (s.serverCpuSeconds ?? Number.NaN), 0) * 1e6) / ok,
    ok,
    errors: samples.reduce((n, s) => n + s.errors, 0),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
  };
}

/**
 * A row's rate as a ratio of another's, turn by turn: slice i of both ran seconds apart, under the
 * same outside load, so the median of those paired ratios cancels most of the drift between turns.
 */
export function pairedRatio(row: Measurement, base: Measurement): number {
  const n = Math.min(row.sliceRates.length, base.sliceRates.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = base.sliceRates[i]!;
    if (b > 0) ratios.push(row.sliceRates[i]! / b);
  }
  return median(ratios);
}
