import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3";
import pg from "pg";
import { moveLegacyPostgres, moveLegacySqlite } from "./legacy-layout.js";
import {
  APPLIED,
  bookkeepingDdl,
  type Migration,
  type Provider,
  readMigrations,
  recordSql,
  withSqliteForeignKeysOff,
} from "./migration-bookkeeping.js";

export { MIGRATIONS_TABLE, type Provider, readMigrations } from "./migration-bookkeeping.js";

/**
 * Applies prisma/<provider>/migrations in order and records them the way `prisma migrate deploy`
 * would (checksum = SHA-256 of the file). Running it in-process keeps start-up fast and never
 * touches the Prisma CLI.
 *
 * The bookkeeping is Holdfast's own, so an application that uses Prisma on the same database keeps
 * its `_prisma_migrations` to itself: on PostgreSQL it is `holdfast._prisma_migrations` (the rows
 * and columns `prisma migrate status` reads, in Holdfast's schema); on SQLite, where a file has one
 * namespace and Prisma's table name is fixed, the same columns and rows in `holdfast_migrations`.
 */
export interface MigrationResult {
  applied: string[];
  /** True when a database of the earlier layout (unprefixed tables, shared bookkeeping) was moved over. */
  movedLegacyLayout: boolean;
}

export function sqliteFilePath(url: string): string {
  return url.replace(/^file:/, "").replace(/\?.*$/, "");
}

/** The migrations not applied yet; throws when an applied one was edited since. */
function pending(provider: Provider, done: Map<string, string>): Migration[] {
  return readMigrations(provider).filter((m) => {
    const seen = done.get(m.name);
    if (seen === undefined) return true;
    if (seen !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`);
    return false;
  });
}

export function migrateSqlite(url: string): MigrationResult {
  const file = sqliteFilePath(url);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Sqlite(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec(bookkeepingDdl("sqlite"));
    const migrations = readMigrations("sqlite");
    const movedLegacyLayout = moveLegacySqlite(db, migrations);
    const done = new Map(
      (db.prepare(APPLIED("sqlite")).all() as { migration_name: string; checksum: string }[]).map((r) => [
        r.migration_name,
        r.checksum,
      ]),
    );
    const applied: string[] = [];
    for (const m of pending("sqlite", done)) {
      withSqliteForeignKeysOff(db, m.name, () => {
        db.exec(m.sql);
        db.prepare(recordSql("sqlite")).run(randomUUID(), m.checksum, m.name);
      });
      applied.push(m.name);
    }
    return { applied, movedLegacyLayout };
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
    await client.query(`CREATE SCHEMA IF NOT EXISTS holdfast`);
    await client.query(bookkeepingDdl("postgres"));
    const migrations = readMigrations("postgres");
    const movedLegacyLayout = await moveLegacyPostgres(client, migrations);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(APPLIED("postgres"));
    const applied: string[] = [];
    for (const m of pending("postgres", new Map(rows.map((r) => [r.migration_name, r.checksum])))) {
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(recordSql("postgres"), [randomUUID(), m.checksum, m.name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
      applied.push(m.name);
    }
    return { applied, movedLegacyLayout };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

export function migrate(provider: Provider, url: string): Promise<MigrationResult> {
  return provider === "sqlite" ? Promise.resolve(migrateSqlite(url)) : migratePostgres(url);
}
