import { randomUUID } from "node:crypto";
import type Sqlite from "better-sqlite3";
import type pg from "pg";
import {
  MIGRATIONS_TABLE,
  type Migration,
  recordSql,
  withSqliteForeignKeysOff,
} from "./migration-bookkeeping.js";

/**
 * Databases migrated before Holdfast's tables moved apart (releases up to the passkeys migration)
 * keep Holdfast's tables under their model names (`User`, `Session`, … in `public` on PostgreSQL)
 * and record the migrations in a `_prisma_migrations` an application's Prisma would share. They
 * are moved over once, rows kept, in one transaction: the tables into Holdfast's place, and the
 * bookkeeping into Holdfast's own table as the baseline migration (which creates the same tables on
 * a new database). The legacy bookkeeping rows are removed, and that table too once empty.
 *
 * `Note` left Holdfast's model with it: its rows stay, without a foreign key into Holdfast's
 * tables, as `holdfast."Note"` / `holdfast_Note`, for the notes module to adopt.
 */

/** The migrations of the earlier layout, per provider: all must have been applied. */
const LEGACY_MIGRATIONS = {
  sqlite: ["20261127151029_init", "20261205031909_passkeys_step_up"],
  postgres: ["20261127151029_init", "20261205031914_passkeys_step_up"],
} as const;

/** Holdfast's tables of the earlier layout, parents before children. */
const LEGACY_TABLES = [
  "User",
  "SigningKey",
  "Session",
  "RefreshToken",
  "AuditEvent",
  "Passkey",
  "WebAuthnChallenge",
];

export const LEGACY_NOTE_TABLE = { sqlite: "holdfast_Note", postgres: 'holdfast."Note"' } as const;

function baselineOf(migrations: readonly Migration[]): Migration {
  const baseline = migrations[0];
  if (!baseline?.name.endsWith("_holdfast_baseline"))
    throw new Error("the first migration is not the baseline");
  return baseline;
}

/** Which legacy migrations a bookkeeping table lists; throws when some but not all are there. */
function legacyApplied(provider: "sqlite" | "postgres", names: readonly string[]): boolean {
  const legacy: readonly string[] = LEGACY_MIGRATIONS[provider];
  const found = legacy.filter((name) => names.includes(name));
  if (found.length === 0) return false;
  if (found.length < legacy.length) {
    throw new Error(
      `this database has only part of an earlier Holdfast release's migrations (${found.join(", ")}): apply that release's migrations first, then migrate with this one`,
    );
  }
  return true;
}

export function moveLegacySqlite(db: Sqlite.Database, migrations: readonly Migration[]): boolean {
  const hasTable = (name: string) =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  if (!hasTable("_prisma_migrations")) return false;
  if (db.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE.sqlite} LIMIT 1`).get() !== undefined) return false;
  const legacyRows = db
    .prepare(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    )
    .pluck()
    .all() as string[];
  if (!legacyApplied("sqlite", legacyRows)) return false;
  const baseline = baselineOf(migrations);
  withSqliteForeignKeysOff(db, "moving Holdfast's tables to their holdfast_ names", () => {
    // The baseline creates the tables exactly as on a new database; the rows follow, column by name.
    db.exec(baseline.sql);
    for (const table of LEGACY_TABLES) copySqliteRows(db, table, `holdfast_${table}`);
    if (hasTable("Note")) {
      db.exec(`CREATE TABLE "${LEGACY_NOTE_TABLE.sqlite}" (
        "id" TEXT NOT NULL PRIMARY KEY, "ownerId" TEXT NOT NULL, "title" TEXT NOT NULL,
        "body" TEXT NOT NULL, "createdAt" DATETIME NOT NULL)`);
      copySqliteRows(db, "Note", LEGACY_NOTE_TABLE.sqlite);
      db.exec(`DROP TABLE "Note"`);
    }
    for (const table of [...LEGACY_TABLES].reverse()) db.exec(`DROP TABLE "${table}"`);
    db.prepare(recordSql("sqlite")).run(randomUUID(), baseline.checksum, baseline.name);
    const names = LEGACY_MIGRATIONS.sqlite;
    db.prepare(
      `DELETE FROM _prisma_migrations WHERE migration_name IN (${names.map(() => "?").join(", ")})`,
    ).run(...names);
    if (db.prepare("SELECT 1 FROM _prisma_migrations LIMIT 1").get() === undefined)
      db.exec("DROP TABLE _prisma_migrations");
  });
  return true;
}

function copySqliteRows(db: Sqlite.Database, from: string, to: string): void {
  const columns = (db.pragma(`table_info("${to}")`) as { name: string }[])
    .map((c) => `"${c.name}"`)
    .join(", ");
  db.exec(`INSERT INTO "${to}" (${columns}) SELECT ${columns} FROM "${from}"`);
}

/**
 * The schema holding the earlier layout: the one (other than `holdfast`) whose `_prisma_migrations`
 * lists Holdfast's first migration — `public` unless the role's search_path said otherwise.
 */
async function legacySchema(client: pg.Client): Promise<string | null> {
  const { rows: candidates } = await client.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables
     WHERE table_name = '_prisma_migrations' AND table_schema <> 'holdfast' ORDER BY table_schema`,
  );
  for (const { schema } of candidates) {
    const { rows } = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM ${quote(schema)}._prisma_migrations
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    if (
      legacyApplied(
        "postgres",
        rows.map((r) => r.migration_name),
      )
    )
      return schema;
  }
  return null;
}

export async function moveLegacyPostgres(
  client: pg.Client,
  migrations: readonly Migration[],
): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM ${MIGRATIONS_TABLE.postgres} LIMIT 1`);
  if (rowCount) return false;
  const schema = await legacySchema(client);
  if (schema === null) return false;
  const baseline = baselineOf(migrations);
  const from = quote(schema);
  await client.query("BEGIN");
  try {
    // SET SCHEMA moves a table with its rows, indexes and constraints (foreign keys follow the
    // table, not its name): the result is what the baseline creates on a new database.
    for (const table of LEGACY_TABLES)
      await client.query(`ALTER TABLE ${from}."${table}" SET SCHEMA holdfast`);
    const { rows } = await client.query(`SELECT to_regclass($1) AS note`, [`${from}."Note"`]);
    if (rows[0]?.note) {
      await client.query(`ALTER TABLE ${from}."Note" SET SCHEMA holdfast`);
      await client.query(
        `ALTER TABLE ${LEGACY_NOTE_TABLE.postgres} DROP CONSTRAINT IF EXISTS "Note_ownerId_fkey"`,
      );
    }
    await client.query(recordSql("postgres"), [randomUUID(), baseline.checksum, baseline.name]);
    await client.query(`DELETE FROM ${from}._prisma_migrations WHERE migration_name = ANY($1)`, [
      [...LEGACY_MIGRATIONS.postgres],
    ]);
    const left = await client.query(`SELECT 1 FROM ${from}._prisma_migrations LIMIT 1`);
    if (left.rowCount === 0) await client.query(`DROP TABLE ${from}._prisma_migrations`);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
  return true;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
