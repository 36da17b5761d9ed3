/** Knobs of one bench run, from BENCH_* variables (the bench is a tool: src/config stays the server's). */
export interface BenchOptions {
  /** Measured seconds per scenario, in slices. */
  readonly seconds: number;
  /** Length of one slice: scenarios take turns slice by slice. */
  readonly sliceSeconds: number;
  /** Unmeasured seconds per scenario before the first slice (JIT, caches, connection pools). */
  readonly warmupSeconds: number;
  /** autocannon connections for the HTTP scenarios. */
  readonly connections: number;
  /** Revoked sessions seeded for the revocation-set scenarios. */
  readonly revokedSessions: number;
}

function integer(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function benchOptions(env: Record<string, string | undefined>): BenchOptions {
  return {
    seconds: integer(env, "BENCH_SECONDS", 6, 1, 120),
    sliceSeconds: integer(env, "BENCH_SLICE_SECONDS", 1, 1, 60),
    warmupSeconds: integer(env, "BENCH_WARMUP_SECONDS", 2, 0, 60),
    connections: integer(env, "BENCH_CONNECTIONS", 10, 1, 1000),
    revokedSessions: integer(env, "BENCH_REVOKED_SESSIONS", 10_000, 0, 1_000_000),
  };
}
