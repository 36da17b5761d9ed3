import type Sqlite from "better-sqlite3";
import type pg from "pg";
import type { HoldfastDatabase } from "../../index.js";

/**
 * The notes' own table, in the application's namespace (`notes`, unqualified: the connection's
 * search_path on PostgreSQL), apart from Holdfast's: owner ids are plain strings, with no foreign
 * key into Holdfast's tables. Idempotent, so it runs at every start.
 *
 * Once, it also adopts the notes Holdfast kept before notes left its model: the Holdfast migration
 * that moved its tables apart left them as `holdfast."Note"` / `holdfast_Note`; their rows move
 * here (ids kept, so nothing is taken twice) and that table is dropped, in one transaction.
 */
export const NOTES_TABLE = "notes";

const LEGACY = { sqlite: "holdfast_Note", postgres: 'holdfast."Note"' } as const;

export async function ensureNotesSchema(driver: HoldfastDatabase): Promise<void> {
  if (driver.provider === "sqlite") ensureSqlite(driver.connection);
  else await ensurePostgres(driver.pool);
}

function ensureSqlite(db: Sqlite.Database): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${NOTES_TABLE} (
      id TEXT NOT NULL PRIMARY KEY, owner_id TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
      created_at TEXT NOT NULL)`);
    db.exec(`CREATE INDEX IF NOT EXISTS notes_owner_id_id_idx ON ${NOTES_TABLE} (owner_id, id)`);
    const legacy = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(LEGACY.sqlite);
    if (legacy === undefined) return;
    // Prisma stored the timestamps as ISO text or epoch milliseconds: normalise to ISO text.
    const rows = db.prepare(`SELECT id, ownerId, title, body, createdAt FROM ${LEGACY.sqlite}`).all() as {
      id: string;
      ownerId: string;
      title: string;
      body: string;
      createdAt: string | number;
    }[];
    const insert = db.prepare(
      `INSERT INTO ${NOTES_TABLE} (id, owner_id, title, body, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    for (const r of rows) insert.run(r.id, r.ownerId, r.title, r.body, new Date(r.createdAt).toISOString());
    db.exec(`DROP TABLE ${LEGACY.sqlite}`);
  }).immediate();
}

// Two instances starting at once would race on CREATE TABLE IF NOT EXISTS (a duplicate pg_type row).
const NOTES_SCHEMA_LOCK_KEY = 7_361_592_205;

async function ensurePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [NOTES_SCHEMA_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${NOTES_TABLE} (
      id text PRIMARY KEY, owner_id text NOT NULL, title text NOT NULL, body text NOT NULL,
      created_at timestamptz NOT NULL)`);
    await client.query(`CREATE INDEX IF NOT EXISTS notes_owner_id_id_idx ON ${NOTES_TABLE} (owner_id, id)`);
    const { rows } = await client.query<{ legacy: string | null }>("SELECT to_regclass($1)::text AS legacy", [
      LEGACY.postgres,
    ]);
    if (rows[0]?.legacy) {
      // Prisma's timestamp(3) holds UTC wall time.
      await client.query(`INSERT INTO ${NOTES_TABLE} (id, owner_id, title, body, created_at)
        SELECT id, "ownerId", title, body, "createdAt" AT TIME ZONE 'UTC' FROM ${LEGACY.postgres}
        ON CONFLICT (id) DO NOTHING`);
      await client.query(`DROP TABLE ${LEGACY.postgres}`);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
