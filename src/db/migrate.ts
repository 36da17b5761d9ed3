import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Sqlite from "better-sqlite3";
import pg from "pg";

/**
 * Applies prisma/<provider>/migrations in order and records them in `_prisma_migrations` exactly
 * as `prisma migrate deploy` would (checksum = SHA-256 of the file), so `prisma migrate status`
 * agrees. Running it in-process keeps start-up fast and never touches the Prisma CLI.
 */
export interface MigrationResult {
  applied: string[];
}

const migrationsRoot = join(dirname(fileURLToPath(import.meta.url)), "../../prisma");

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(provider: "sqlite" | "postgres"): Migration[] {
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

export function sqliteFilePath(url: string): string {
  return url.replace(/^file:/, "").replace(/\?.*$/, "");
}

export function migrateSqlite(url: string): MigrationResult {
  const file = sqliteFilePath(url);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Sqlite(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);
    const done = new Map(
      (
        db
          .prepare(
            `SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
          )
          .all() as { migration_name: string; checksum: string }[]
      ).map((r) => [r.migration_name, r.checksum]),
    );
    const applied: string[] = [];
    for (const m of readMigrations("sqlite")) {
      const seen = done.get(m.name);
      if (seen !== undefined) {
        if (seen !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
        continue;
      }
      // Prisma's SQLite migrations rebuild tables; with foreign keys on, the DROP TABLE inside would
      // cascade-delete child rows. The pragma is ignored inside a transaction, so set it outside.
      db.pragma("foreign_keys = OFF");
      try {
        db.transaction(() => {
          db.exec(m.sql);
          const broken = db.pragma("foreign_key_check") as unknown[];
          if (broken.length > 0)
            throw new Error(`migration ${m.name} leaves ${broken.length} broken foreign keys`);
          db.prepare(
            `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
             VALUES (?, ?, current_timestamp, ?, current_timestamp, 1)`,
          ).run(randomUUID(), m.checksum, m.name);
        })();
      } finally {
        db.pragma("foreign_keys = ON");
      }
      applied.push(m.name);
    }
    return { applied };
  } finally {
    db.close();
  }
}

// Any constant works; it only has to be the same for every instance of Holdfast.
const MIGRATION_LOCK_KEY = 7_361_592_204;

export async function migratePostgres(url: string): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Two instances starting at once: the second waits, then finds nothing left to do.
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS _prisma_migrations (
      id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ,
      migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ,
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      "SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    const applied: string[] = [];
    for (const m of readMigrations("postgres")) {
      const seen = done.get(m.name);
      if (seen !== undefined) {
        if (seen !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
      applied.push(m.name);
    }
    return { applied };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

export function migrate(provider: "sqlite" | "postgres", url: string): Promise<MigrationResult> {
  return provider === "sqlite" ? Promise.resolve(migrateSqlite(url)) : migratePostgres(url);
}
