import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type Sqlite from "better-sqlite3";

// Holdfast's migration files and its own bookkeeping of them, shared by the runner (migrate.ts),
// the move from the earlier layout (legacy-layout.ts) and the start-up check.

export type Provider = "sqlite" | "postgres";

export const MIGRATIONS_TABLE = {
  sqlite: "holdfast_migrations",
  postgres: "holdfast._prisma_migrations",
} as const satisfies Record<Provider, string>;

/** Where prisma/ is from this file: src/db/ when run by tsx, dist/db/ once built; both sit two levels down. */
const migrationsRoot = join(dirname(fileURLToPath(import.meta.url)), "../../prisma");

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(provider: Provider): Migration[] {
  const dir = join(migrationsRoot, provider, "migrations");
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/** The columns of Prisma's `_prisma_migrations`, for either provider's bookkeeping table. */
export function bookkeepingDdl(provider: Provider): string {
  const table = MIGRATIONS_TABLE[provider];
  return provider === "sqlite"
    ? `CREATE TABLE IF NOT EXISTS "${table}" (
      "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`
    : `CREATE TABLE IF NOT EXISTS ${table} (
      id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ,
      migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ,
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)`;
}

export const APPLIED = (provider: Provider) =>
  `SELECT migration_name, checksum FROM ${MIGRATIONS_TABLE[provider]} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;

/** The row `prisma migrate deploy` writes for an applied migration. */
export function recordSql(provider: Provider): string {
  return provider === "sqlite"
    ? `INSERT INTO ${MIGRATIONS_TABLE.sqlite} (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
       VALUES (?, ?, current_timestamp, ?, current_timestamp, 1)`
    : `INSERT INTO ${MIGRATIONS_TABLE.postgres} (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, now(), $3, now(), 1)`;
}

/**
 * Runs `change` in one transaction with foreign keys off. Prisma's SQLite migrations rebuild tables;
 * with foreign keys on, the DROP TABLE inside would cascade-delete child rows. The pragma is ignored
 * inside a transaction, so it is set outside, and the keys are checked before the commit.
 */
export function withSqliteForeignKeysOff(db: Sqlite.Database, what: string, change: () => void): void {
  db.pragma("foreign_keys = OFF");
  try {
    db.transaction(() => {
      change();
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length > 0) throw new Error(`${what} leaves ${broken.length} broken foreign keys`);
    })();
  } finally {
    db.pragma("foreign_keys = ON");
  }
}
