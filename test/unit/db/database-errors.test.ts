// Every family of driver/adapter error that means "the database is unavailable or slow" becomes a
// retryable SERVICE_UNAVAILABLE; errors that retrying cannot fix do not. Real errors where they are
// cheap to cause (a refused connection, a connection limit, a busy SQLite file), and otherwise the
// exact shapes Prisma 6.19, @prisma/adapter-pg, @prisma/adapter-better-sqlite3 and pg produce.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../../src/db/database.js";
import { isDatabaseUnavailable, withDatabase } from "../../../src/db/errors.js";
import { ServiceUnavailableError } from "../../../src/errors/app-error.js";
import { freePort } from "../../support/private-services.js";
import { adminQuery, createEmptyDatabase } from "../../support/shared-services.js";

/** What Prisma throws for a query whose adapter reported `cause` (meta.driverAdapterError). */
function prismaKnown(code: string, cause: Record<string, unknown>) {
  return Object.assign(new Error("Invalid invocation"), {
    name: "PrismaClientKnownRequestError",
    code,
    meta: { driverAdapterError: Object.assign(new Error("adapter"), { name: "DriverAdapterError", cause }) },
  });
}
/** What escapes a batch transaction: the adapter's error itself, the driver's facts in `cause`. */
function adapterError(cause: Record<string, unknown>) {
  return Object.assign(new Error(String(cause.message ?? cause.kind)), { name: "DriverAdapterError", cause });
}

/** The error Prisma raised for the first query on `url` (the start-up check keeps it as the cause). */
async function driverErrorOf(url: string): Promise<unknown> {
  try {
    const db = await openDatabase({ url, provider: "postgres", poolSize: 1, autoMigrate: false });
    await db.close();
  } catch (error) {
    return (error as { cause?: unknown }).cause;
  }
  throw new Error("the database answered");
}

async function classify(operation: () => Promise<unknown>): Promise<unknown> {
  try {
    await withDatabase(operation);
    return "resolved";
  } catch (error) {
    return error;
  }
}

describe("a database that cannot be reached or answer in time is a retryable SERVICE_UNAVAILABLE", () => {
  it("a refused connection (ECONNREFUSED → P1001 DatabaseNotReachable), from a real pool", async () => {
    const port = await freePort();
    const real = await driverErrorOf(`postgresql://postgres@127.0.0.1:${port}/none`);
    expect(await classify(() => Promise.reject(real))).toBeInstanceOf(ServiceUnavailableError);
  });

  it("too many connections (SQLSTATE 53300 → P2037 TooManyConnections), from a real server", async () => {
    const role = `holdfast_limit_${process.pid}`;
    const database = await createEmptyDatabase("holdfast_errors");
    await adminQuery(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
    const url = new URL(database.url);
    url.username = role;
    try {
      const real = await driverErrorOf(url.href);
      expect(await classify(() => Promise.reject(real))).toBeInstanceOf(ServiceUnavailableError);
    } finally {
      await database.drop();
      await adminQuery(`DROP ROLE ${role}`);
    }
  });

  it("a SQLite file locked by another writer past busy_timeout (SQLITE_BUSY → P1008 SocketTimeout), for real", async () => {
    const dir = mkdtempSync(join(tmpdir(), "holdfast-errors-"));
    const url = `file:${join(dir, "busy.db")}`;
    const db = await openDatabase({ url, provider: "sqlite", poolSize: 1, autoMigrate: true });
    const other = new Sqlite(join(dir, "busy.db"));
    try {
      other.exec("BEGIN EXCLUSIVE");
      const write = () =>
        db.prisma.auditEvent.create({ data: { id: "busy", type: "x", createdAt: new Date() } });
      expect(await classify(write)).toBeInstanceOf(ServiceUnavailableError);
    } finally {
      other.exec("ROLLBACK");
      other.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  const shaped: [string, unknown][] = [
    [
      "statement_timeout / lock wait cancelled (57014), as a batch transaction throws it",
      adapterError({
        kind: "postgres",
        code: "57014",
        message: "canceling statement due to statement timeout",
      }),
    ],
    [
      "lock_timeout (55P03)",
      adapterError({ kind: "postgres", code: "55P03", message: "canceling statement due to lock timeout" }),
    ],
    [
      "server shutting down (57P01 admin_shutdown)",
      adapterError({
        kind: "postgres",
        code: "57P01",
        message: "terminating connection due to administrator command",
      }),
    ],
    [
      "crash shutdown (57P02)",
      adapterError({ kind: "postgres", code: "57P02", message: "terminating connection due to crash" }),
    ],
    [
      "server starting up (57P03)",
      prismaKnown("P2010", { kind: "postgres", originalCode: "57P03", code: "57P03" }),
    ],
    [
      "connection failure (08006)",
      adapterError({ kind: "postgres", code: "08006", message: "connection failure" }),
    ],
    ["out of memory (53200)", adapterError({ kind: "postgres", code: "53200", message: "out of memory" })],
    ["connection reset (ECONNRESET → ConnectionClosed)", prismaKnown("P1017", { kind: "ConnectionClosed" })],
    ["socket timeout (ETIMEDOUT → SocketTimeout)", prismaKnown("P1008", { kind: "SocketTimeout" })],
    ["pg client read timeout (hung server)", new Error("Query read timeout")],
    ["pg-pool acquire timeout", new Error("timeout exceeded when trying to connect")],
    ["connection lost mid-query", new Error("Connection terminated unexpectedly")],
    ["connect timeout", new Error("Connection terminated due to connection timeout")],
    [
      "a client that already failed",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
    ["a pool closing for shutdown", new Error("Cannot use a pool after calling end on the pool")],
    [
      "Prisma transaction expired (P2028)",
      Object.assign(
        new Error("Transaction API error: A rollback cannot be executed on an expired transaction."),
        {
          code: "P2028",
        },
      ),
    ],
    [
      "Prisma could not start a transaction in time (P2028)",
      Object.assign(new Error("Unable to start a transaction in the given time."), { code: "P2028" }),
    ],
    [
      "Prisma pool timeout (P2024)",
      Object.assign(new Error("Timed out fetching a new connection"), { code: "P2024" }),
    ],
    [
      "raw socket errors",
      Object.assign(new Error("connect EHOSTUNREACH"), {
        code: "EHOSTUNREACH",
        syscall: "connect",
        errno: -113,
      }),
    ],
    [
      "SQLite I/O error, extended code (SQLITE_IOERR_WRITE)",
      Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR_WRITE" }),
    ],
    [
      "SQLite file gone (SQLITE_CANTOPEN)",
      Object.assign(new Error("unable to open database file"), { code: "SQLITE_CANTOPEN" }),
    ],
    [
      "SQLite file moved (SQLITE_READONLY_DBMOVED)",
      Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY_DBMOVED" }),
    ],
    [
      "SQLite disk full (SQLITE_FULL)",
      Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }),
    ],
  ];
  it.each(shaped)("%s", async (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    const thrown = await classify(() => Promise.reject(error));
    expect(thrown).toBeInstanceOf(ServiceUnavailableError);
    expect((thrown as ServiceUnavailableError).publicExtensions()).toEqual({
      reason: "dependency_unavailable",
      retryable: true,
    });
  });
});

describe("errors that retrying cannot fix are not called unavailable", () => {
  it.each([
    ["a unique violation (P2002)", Object.assign(new Error("Unique constraint failed"), { code: "P2002" })],
    [
      "a missing table (P2021: not migrated)",
      prismaKnown("P2021", { kind: "TableDoesNotExist", originalCode: "42P01" }),
    ],
    ["a syntax error (42601)", adapterError({ kind: "postgres", code: "42601", message: "syntax error" })],
    ["a bug", new TypeError("Cannot read properties of undefined")],
  ])("%s", async (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(await classify(() => Promise.reject(error))).toBe(error);
  });
});
