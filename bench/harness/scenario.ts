import type { Prisma } from "../../src/db/database.js";
import type { BenchProvider } from "./bench-database.js";
import type { BenchOptions } from "./bench-options.js";
import type { LoadDriver } from "./load-driver.js";
import type { ServerHandle } from "./server-handle.js";

/**
 * One row of the bench table. Every scenario gets its own throwaway database and its own server
 * process(es), so scenarios share no state and no warm cache:
 *   database created and migrated → seed(prisma) → database closed → servers started with env →
 *   prepare (register users, check one answer) → driver.run(slice) in turns with the other rows.
 */
export interface Scenario {
  /** The CLI name: `npm run bench -- <name> …`. */
  readonly name: string;
  /** One line for the notes under the table and `--list`. */
  readonly summary: string;
  /** The issue whose "Benchmark" section asks for it. */
  readonly issue: number;
  /** Server configuration on top of BENCH_SERVER_ENV (e.g. { TOKEN_CACHE_SIZE: "0" }). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default sqlite (a temp file); "postgres" creates a throwaway database on 127.0.0.1:5432. */
  readonly database?: BenchProvider;
  /** Server processes started on the same database (default 1), in `context.servers`. */
  readonly instances?: number;
  /** Left out of a run without names; run it by name. */
  readonly optIn?: boolean;
  /** A scenario to compare with: the table shows this row's ops/s as a ratio of that row's. */
  readonly compareWith?: string;
  /** Rows written straight to the database before any server starts. */
  seed?(prisma: Prisma, options: BenchOptions): Promise<void>;
  /** Sets up through the API and returns the load; throws when the server does not answer as expected. */
  prepare(context: ScenarioContext): Promise<PreparedScenario>;
}

export interface ScenarioContext {
  readonly servers: readonly ServerHandle[];
  readonly options: BenchOptions;
}

export interface PreparedScenario {
  readonly driver: LoadDriver;
  /** Printed under the table (what was checked or loaded). */
  readonly note?: string;
}
