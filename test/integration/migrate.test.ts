import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { type Database, openDatabase } from "../../src/db/database.js";
import { migratePostgres, migrateSqlite, readMigrations } from "../../src/db/migrate.js";
import { NoteService } from "../../src/modules/notes/note-service.js";
import { ensureNotesSchema } from "../../src/modules/notes/notes-schema.js";
import {
  createLegacyPostgres,
  createLegacySqlite,
  LEGACY_AT,
  LEGACY_ROWS,
} from "../support/legacy-layout.js";
import { createEmptyDatabase, type EmptyDatabase } from "../support/shared-services.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HOLDFAST_TABLES = [
  "AuditEvent",
  "Passkey",
  "RefreshToken",
  "Session",
  "SigningKey",
  "User",
  "WebAuthnChallenge",
];

function sqliteTables(db: Sqlite.Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
}

/** What a user checks after an upgrade: the account, its session and token, and the notes are all there. */
async function expectLegacyRowsServed(db: Database): Promise<void> {
  const user = await db.prisma.user.findUnique({
    where: { id: LEGACY_ROWS.user },
    include: { sessions: true },
  });
  expect(user?.email).toBe("legacy@example.com");
  expect(user?.createdAt).toEqual(LEGACY_AT);
  expect(user?.sessions.map((s) => s.id)).toEqual([LEGACY_ROWS.session]);
  expect(await db.prisma.refreshToken.count({ where: { sessionId: LEGACY_ROWS.session } })).toBe(1);
  expect(await db.prisma.auditEvent.count()).toBe(1);
  await ensureNotesSchema(db.driver);
  await ensureNotesSchema(db.driver); // idempotent: adopts once
  const notes = await new NoteService(db.driver, systemClock).list(10, null, LEGACY_ROWS.user);
  expect(notes.edges.map((e) => e.node)).toEqual([
    {
      id: LEGACY_ROWS.note,
      ownerId: LEGACY_ROWS.user,
      title: "Kept",
      body: "from before",
      createdAt: LEGACY_AT,
    },
  ]);
}

describe("embedded migration runner (SQLite)", () => {
  it("creates the database under a new folder, records each migration in holdfast_migrations the way Prisma does, and is idempotent", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const url = `file:${join(dir, "nested", "db.sqlite")}`;
    const first = migrateSqlite(url);
    expect(first).toEqual({ applied: readMigrations("sqlite").map((m) => m.name), movedLegacyLayout: false });
    expect(migrateSqlite(url).applied).toEqual([]);
    const db = new Sqlite(join(dir, "nested", "db.sqlite"));
    const rows = db
      .prepare("SELECT migration_name, checksum, finished_at FROM holdfast_migrations")
      .all() as {
      checksum: string;
      finished_at: string | null;
    }[];
    expect(rows).toHaveLength(first.applied.length);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.checksum) && r.finished_at !== null)).toBe(true);
    // Every table Holdfast made is prefixed: nothing an application's own tables could collide with.
    expect(sqliteTables(db)).toEqual(
      [...HOLDFAST_TABLES.map((t) => `holdfast_${t}`), "holdfast_migrations"].sort(),
    );
    expect((db.pragma("journal_mode") as { journal_mode: string }[])[0]!.journal_mode).toBe("wal");
    db.close();
  });

  it("refuses to run when an applied migration was edited afterwards", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    migrateSqlite(`file:${file}`);
    const db = new Sqlite(file);
    db.prepare("UPDATE holdfast_migrations SET checksum = 'x'").run();
    db.close();
    expect(() => migrateSqlite(`file:${file}`)).toThrow(/changed after it was applied/);
  });

  it("keeps child rows when re-run on a database with data (no cascade through table rebuilds)", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    migrateSqlite(`file:${file}`);
    const db = new Sqlite(file);
    const now = new Date().toISOString();
    db.prepare(
      "INSERT INTO holdfast_User (id, email, passwordHash, displayName, role, createdAt) VALUES ('u1', 'a@b.co', 'h', 'A', 'user', ?)",
    ).run(now);
    db.prepare(
      "INSERT INTO holdfast_Passkey (id, userId, userHandle, publicKey, counter, deviceType, backedUp, name, createdAt) VALUES ('p1', 'u1', 'h', 'k', 0, 'singleDevice', 0, 'key', ?)",
    ).run(now);
    db.close();
    migrateSqlite(`file:${file}`);
    const again = new Sqlite(file);
    expect((again.prepare("SELECT count(*) AS n FROM holdfast_Passkey").get() as { n: number }).n).toBe(1);
    again.close();
  });

  it("leaves an application's own User, Session and _prisma_migrations in the same file untouched", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    const app = new Sqlite(file);
    app.exec(`CREATE TABLE User (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE Session (id INTEGER PRIMARY KEY, userId INTEGER REFERENCES User (id) ON DELETE CASCADE);
      CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY, checksum TEXT, finished_at DATETIME, migration_name TEXT,
        logs TEXT, rolled_back_at DATETIME, started_at DATETIME, applied_steps_count INTEGER);
      INSERT INTO User VALUES (1, 'app user'); INSERT INTO Session VALUES (7, 1);
      INSERT INTO _prisma_migrations VALUES ('m', 'c', current_timestamp, '20250101000000_app', NULL, NULL, current_timestamp, 1);`);
    const before = app
      .prepare(
        "SELECT sql FROM sqlite_master WHERE name IN ('User', 'Session', '_prisma_migrations') ORDER BY name",
      )
      .pluck()
      .all();
    app.close();
    expect(migrateSqlite(`file:${file}`).movedLegacyLayout).toBe(false);
    const db = new Sqlite(file);
    expect(
      db
        .prepare(
          "SELECT sql FROM sqlite_master WHERE name IN ('User', 'Session', '_prisma_migrations') ORDER BY name",
        )
        .pluck()
        .all(),
    ).toEqual(before);
    expect(db.prepare("SELECT name FROM User").pluck().all()).toEqual(["app user"]);
    expect(db.prepare("SELECT id FROM Session").pluck().all()).toEqual([7]);
    expect(db.prepare("SELECT migration_name FROM _prisma_migrations").pluck().all()).toEqual([
      "20250101000000_app",
    ]);
    expect(db.prepare("SELECT count(*) FROM holdfast_migrations").pluck().get()).toBe(
      readMigrations("sqlite").length,
    );
    db.close();
  });

  it("moves a database of the earlier layout over with its rows: users, sessions, tokens, audit, and notes for the notes module", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    createLegacySqlite(file);
    expect(migrateSqlite(`file:${file}`)).toEqual({ applied: [], movedLegacyLayout: true });
    const raw = new Sqlite(file);
    // The legacy bookkeeping held only Holdfast's rows: it is gone, as are the unprefixed tables.
    expect(sqliteTables(raw)).toEqual(
      [...HOLDFAST_TABLES.map((t) => `holdfast_${t}`), "holdfast_Note", "holdfast_migrations"].sort(),
    );
    expect(raw.pragma("foreign_key_check")).toEqual([]);
    // The moved tables are the baseline's, index names included.
    const fresh = new Sqlite(":memory:");
    fresh.exec(readMigrations("sqlite")[0]!.sql);
    const schemaOf = (db: Sqlite.Database) =>
      db
        .prepare(
          "SELECT type, name, sql FROM sqlite_master WHERE name NOT IN ('holdfast_Note', 'holdfast_migrations') AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
        )
        .all();
    expect(schemaOf(raw)).toEqual(schemaOf(fresh));
    fresh.close();
    raw.close();
    expect(migrateSqlite(`file:${file}`)).toEqual({ applied: [], movedLegacyLayout: false });

    const db = await openDatabase({
      url: `file:${file}`,
      provider: "sqlite",
      poolSize: 1,
      autoMigrate: true,
    });
    try {
      await expectLegacyRowsServed(db);
    } finally {
      await db.close();
    }
    const after = new Sqlite(file);
    expect(sqliteTables(after)).not.toContain("holdfast_Note");
    // Foreign keys still hold: deleting the user takes its session and token with it.
    after.prepare("DELETE FROM holdfast_User WHERE id = ?").run(LEGACY_ROWS.user);
    expect(after.prepare("SELECT count(*) FROM holdfast_RefreshToken").pluck().get()).toBe(0);
    after.close();
  });

  it("keeps an application's rows in a shared legacy _prisma_migrations and removes only Holdfast's", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    createLegacySqlite(file);
    const db = new Sqlite(file);
    db.prepare(
      "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('app', 'c', current_timestamp, '20250101000000_app', current_timestamp, 1)",
    ).run();
    db.close();
    expect(migrateSqlite(`file:${file}`).movedLegacyLayout).toBe(true);
    const after = new Sqlite(file);
    expect(after.prepare("SELECT migration_name FROM _prisma_migrations").pluck().all()).toEqual([
      "20250101000000_app",
    ]);
    after.close();
  });
});

describe("migration runner (PostgreSQL)", () => {
  let empty: EmptyDatabase | undefined;
  afterEach(async () => {
    await empty?.drop();
    empty = undefined;
  });

  async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  const tablesBySchema = (url: string) =>
    query<{ s: string; t: string }>(
      url,
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('public', 'holdfast') ORDER BY 1, 2",
    ).then((rows) => rows.map((r) => `${r.s}.${r.t}`));

  it("puts every table and its bookkeeping in schema holdfast, beside an application's own User, Session and _prisma_migrations", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    empty = await createEmptyDatabase("holdfast_migrate");
    await query(
      empty.url,
      `CREATE TABLE "User" (id serial PRIMARY KEY, name text); CREATE TABLE "Session" (id serial PRIMARY KEY, "userId" int REFERENCES "User");
       CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
         migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
         applied_steps_count int NOT NULL DEFAULT 0);
       INSERT INTO "User" (name) VALUES ('app user'); INSERT INTO "Session" ("userId") VALUES (1);
       INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name) VALUES ('m', 'c', now(), '20250101000000_app');`,
    );
    const first = await migratePostgres(empty.url);
    expect(first).toEqual({
      applied: readMigrations("postgres").map((m) => m.name),
      movedLegacyLayout: false,
    });
    expect((await migratePostgres(empty.url)).applied).toEqual([]);
    expect(await tablesBySchema(empty.url)).toEqual([
      ...[...HOLDFAST_TABLES, "_prisma_migrations"].map((t) => `holdfast.${t}`).sort(),
      "public.Session",
      "public.User",
      "public._prisma_migrations",
    ]);
    expect(await query(empty.url, `SELECT name FROM "User"`)).toEqual([{ name: "app user" }]);
    expect(await query(empty.url, "SELECT migration_name FROM public._prisma_migrations")).toEqual([
      { migration_name: "20250101000000_app" },
    ]);
  });

  it("moves a database of the earlier layout into schema holdfast with its rows, and hands the notes to the notes module", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    empty = await createEmptyDatabase("holdfast_migrate");
    await createLegacyPostgres(empty.url);
    expect(await migratePostgres(empty.url)).toEqual({ applied: [], movedLegacyLayout: true });
    expect(await tablesBySchema(empty.url)).toEqual(
      [...HOLDFAST_TABLES, "Note", "_prisma_migrations"].map((t) => `holdfast.${t}`).sort(),
    );
    expect(await query(empty.url, "SELECT migration_name FROM holdfast._prisma_migrations")).toEqual([
      { migration_name: readMigrations("postgres")[0]!.name },
    ]);
    expect(await migratePostgres(empty.url)).toEqual({ applied: [], movedLegacyLayout: false });

    const db = await openDatabase({ url: empty.url, provider: "postgres", poolSize: 2, autoMigrate: false });
    try {
      await expectLegacyRowsServed(db);
    } finally {
      await db.close();
    }
    expect(await tablesBySchema(empty.url)).toEqual([
      ...[...HOLDFAST_TABLES, "_prisma_migrations"].map((t) => `holdfast.${t}`).sort(),
      "public.notes",
    ]);
  });
});
