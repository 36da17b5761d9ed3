import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createEmptyDatabase } from "./shared-services.js";

/**
 * A fresh, migrated database for one test (or one file), removed on close.
 * SQLite by default (a file in a temp dir); TEST_DATABASE=postgres gives a throwaway PostgreSQL
 * database instead, so the same tests run against both providers.
 */
export async function createTestDatabase(): Promise<Database & { url: string }> {
  return process.env.TEST_DATABASE === "postgres" ? createPostgres() : createSqlite();
}

async function createSqlite(): Promise<Database & { url: string }> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-test-"));
  const url = `file:${join(dir, "test.db")}`;
  try {
    const db = await openDatabase({ url, provider: "sqlite", poolSize: 1, autoMigrate: true });
    return withClose(db, url, async () => rmSync(dir, { recursive: true, force: true }));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function createPostgres(): Promise<Database & { url: string }> {
  const { url, drop } = await createEmptyDatabase("holdfast_test");
  try {
    const db = await openDatabase({ url, provider: "postgres", poolSize: 5, autoMigrate: true });
    return withClose(db, url, drop);
  } catch (error) {
    await drop();
    throw error;
  }
}

function withClose(db: Database, url: string, cleanup: () => Promise<void>): Database & { url: string } {
  let closing: Promise<void> | undefined;
  return {
    prisma: db.prisma,
    provider: db.provider,
    driver: db.driver,
    ping: () => db.ping(),
    url,
    // Idempotent: a test's finally and an afterEach may both close it.
    close() {
      closing ??= db.close().finally(cleanup);
      return closing;
    },
  };
}
