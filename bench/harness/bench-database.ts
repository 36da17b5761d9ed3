import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Database, openDatabase } from "../../src/db/database.js";

export type BenchProvider = "sqlite" | "postgres";

export interface BenchDatabase {
  readonly provider: BenchProvider;
  /** The DATABASE_URL the server processes get. */
  readonly url: string;
  /** A migrated connection for seeding; close it before the servers start. */
  open(): Promise<Database>;
  drop(): Promise<void>;
}

const POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

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
  // Lower-case hex only: the name is interpolated into DDL, which cannot take bind parameters.
  const name = `holdfast_bench_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  return {
    provider,
    url,
    open: () => openDatabase({ url, provider, poolSize: 5, autoMigrate: true }),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
