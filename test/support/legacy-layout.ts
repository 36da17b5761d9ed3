import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Sqlite from "better-sqlite3";
import pg from "pg";

// A database as releases before "Holdfast's tables apart" left it: the migrations of that layout
// (kept in test/fixtures/legacy-layout) applied the way that release's runner applied them, tables
// under their model names and the bookkeeping in a shared `_prisma_migrations`, with rows in every
// table a user's data touches.

const FIXTURES = fileURLToPath(new URL("../fixtures/legacy-layout", import.meta.url));

function legacyMigrations(provider: "sqlite" | "postgres") {
  const dir = join(FIXTURES, provider);
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export const LEGACY_AT = new Date("2026-12-01T10:00:00.123Z");

/** Ids of the rows every legacy database gets. */
export const LEGACY_ROWS = {
  user: "u-legacy",
  session: "s-legacy",
  token: "t-legacy",
  note: "n-legacy",
} as const;

export function createLegacySqlite(file: string): void {
  const db = new Sqlite(file);
  try {
    db.exec(`CREATE TABLE "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);
    db.pragma("foreign_keys = OFF");
    for (const m of legacyMigrations("sqlite")) {
      db.exec(m.sql);
      db.prepare(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES (?, ?, current_timestamp, ?, current_timestamp, 1)`,
      ).run(randomUUID(), m.checksum, m.name);
    }
    db.pragma("foreign_keys = ON");
    // Prisma's SQLite adapter stored DateTime as ISO text with +00:00.
    const at = LEGACY_AT.toISOString().replace("Z", "+00:00");
    const { user, session, token, note } = LEGACY_ROWS;
    db.prepare(
      `INSERT INTO User (id, email, passwordHash, displayName, role, createdAt) VALUES (?, 'legacy@example.com', 'h', 'Legacy', 'user', ?)`,
    ).run(user, at);
    db.prepare(
      `INSERT INTO Session (id, userId, scopes, createdAt, lastUsedAt, idleExpiresAt, absoluteExpiresAt, acr, amr)
       VALUES (?, ?, 'notes:read', ?, ?, ?, ?, 'pwd', 'pwd')`,
    ).run(session, user, at, at, at, at);
    db.prepare(
      `INSERT INTO RefreshToken (id, sessionId, tokenHash, createdAt) VALUES (?, ?, 'hash-legacy', ?)`,
    ).run(token, session, at);
    db.prepare(
      `INSERT INTO AuditEvent (id, type, userId, createdAt) VALUES ('a-legacy', 'user.registered', ?, ?)`,
    ).run(user, at);
    db.prepare(
      `INSERT INTO Note (id, ownerId, title, body, createdAt) VALUES (?, ?, 'Kept', 'from before', ?)`,
    ).run(note, user, at);
  } finally {
    db.close();
  }
}

export async function createLegacyPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE _prisma_migrations (
      id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ,
      migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ,
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)`);
    for (const m of legacyMigrations("postgres")) {
      await client.query(m.sql);
      await client.query(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, now(), 1)`,
        [randomUUID(), m.checksum, m.name],
      );
    }
    // Prisma's timestamp(3) holds UTC wall time.
    const at = LEGACY_AT.toISOString().replace("T", " ").replace("Z", "");
    const { user, session, token, note } = LEGACY_ROWS;
    await client.query(
      `INSERT INTO "User" (id, email, "passwordHash", "displayName", role, "createdAt") VALUES ($1, 'legacy@example.com', 'h', 'Legacy', 'user', $2)`,
      [user, at],
    );
    await client.query(
      `INSERT INTO "Session" (id, "userId", scopes, "createdAt", "lastUsedAt", "idleExpiresAt", "absoluteExpiresAt")
       VALUES ($1, $2, 'notes:read', $3, $3, $3, $3)`,
      [session, user, at],
    );
    await client.query(
      `INSERT INTO "RefreshToken" (id, "sessionId", "tokenHash", "createdAt") VALUES ($1, $2, 'hash-legacy', $3)`,
      [token, session, at],
    );
    await client.query(
      `INSERT INTO "AuditEvent" (id, type, "userId", "createdAt") VALUES ('a-legacy', 'user.registered', $1, $2)`,
      [user, at],
    );
    await client.query(
      `INSERT INTO "Note" (id, "ownerId", title, body, "createdAt") VALUES ($1, $2, 'Kept', 'from before', $3)`,
      [note, user, at],
    );
  } finally {
    await client.end();
  }
}
