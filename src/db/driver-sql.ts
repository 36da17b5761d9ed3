import type Sqlite from "better-sqlite3";
import pg from "pg";
import { ServiceUnavailableError } from "../errors/app-error.js";

// Helpers for the hot statements that go to the driver under Prisma (better-sqlite3 or pg)
// instead of through Prisma's query compiler. They read and write rows exactly as Prisma does,
// so both paths see the same data.

/** How Prisma's SQLite adapter stores a DateTime (its default `iso8601` format). */
export function sqliteTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

export function sqliteDate(value: unknown): Date {
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  return new Date(String(value));
}

export function sqliteNullableDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : sqliteDate(value);
}

/** How long a hot statement waits for a Prisma transaction on the shared connection to end. */
const SQLITE_WAIT_MS = 5000;

/**
 * Resolves once no Prisma transaction is open on the shared SQLite connection. Prisma's adapter
 * keeps a transaction open across awaits (BEGIN … await … COMMIT); a statement issued meanwhile
 * would run inside it and commit or roll back with it. The hot statements are synchronous, so once
 * this resolves and they run in the same turn, nothing can interleave with them.
 */
export async function sqliteOutsideTransaction(connection: Sqlite.Database): Promise<void> {
  if (!connection.inTransaction) return;
  const deadline = Date.now() + SQLITE_WAIT_MS;
  while (connection.inTransaction) {
    if (Date.now() > deadline) throw new ServiceUnavailableError();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A PostgreSQL `timestamp(3)` parameter: Prisma stores UTC wall time without a zone. */
export function pgTimestamp(date: Date): string {
  return date.toISOString();
}

const TIMESTAMP_OID = 1114;

/**
 * Per-query type parsers: a `timestamp` (without time zone) column holds UTC wall time (Prisma's
 * convention), which pg would otherwise read in the process's local zone.
 */
export const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID && format !== "binary") {
      return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    }
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** SQLSTATE 23505 (PostgreSQL) or a SQLite UNIQUE failure: the write lost to a concurrent one. */
export function isDriverUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
