import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createEmptyDatabase } from "../../test/support/shared-services.js";

export type BenchProvider = "sqlite" | "postgres";

export interface BenchDatabase {
  readonly provider: BenchProvider;
  /** The DATABASE_URL the server processes get. */
  readonly url: string;
  /** A migrated connection for seeding; close it before the servers start. */
  open(): Promise<Database>;
  drop(): Promise<void>;
}

/** A throwaway database per scenario: a temp SQLite file, or a fresh database on the local PostgreSQL. */
export async function createBenchDatabase(provider: BenchProvider): Promise<BenchDatabase> {
  if (provider === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "holdfast-bench-"));
    const url = `file:${join(dir, "bench.db")}`;
    return {
      provider,
      url,
      open: () => openDatabase({ url, provider, poolSize: 1, autoMigrate: true }),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const { url, drop } = await createEmptyDatabase("holdfast_bench");
  return {
    provider,
    url,
    open: () => openDatabase({ url, provider, poolSize: 5, autoMigrate: true }),
    drop,
  };
}
