import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { migrateSqlite } from "../../src/db/migrate.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("embedded migration runner", () => {
  it("creates the database under a new folder, records each migration the way Prisma does, and is idempotent", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const url = `file:${join(dir, "nested", "db.sqlite")}`;
    const first = migrateSqlite(url);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(migrateSqlite(url).applied).toEqual([]);
    const db = new Sqlite(join(dir, "nested", "db.sqlite"));
    const rows = db.prepare("SELECT migration_name, checksum, finished_at FROM _prisma_migrations").all() as {
      checksum: string;
      finished_at: string | null;
    }[];
    expect(rows).toHaveLength(first.applied.length);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.checksum) && r.finished_at !== null)).toBe(true);
    expect((db.pragma("journal_mode") as { journal_mode: string }[])[0]!.journal_mode).toBe("wal");
    db.close();
  });

  it("refuses to run when an applied migration was edited afterwards", () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-migrate-"));
    const file = join(dir, "db.sqlite");
    migrateSqlite(`file:${file}`);
    const db = new Sqlite(file);
    db.prepare("UPDATE _prisma_migrations SET checksum = 'x'").run();
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
      "INSERT INTO User (id, email, passwordHash, displayName, role, createdAt) VALUES ('u1', 'a@b.co', 'h', 'A', 'user', ?)",
    ).run(now);
    db.prepare("INSERT INTO Note (id, ownerId, title, body, createdAt) VALUES ('n1', 'u1', 't', 'b', ?)").run(
      now,
    );
    db.close();
    migrateSqlite(`file:${file}`);
    const again = new Sqlite(file);
    expect((again.prepare("SELECT count(*) AS n FROM Note").get() as { n: number }).n).toBe(1);
    again.close();
  });
});
