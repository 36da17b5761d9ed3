import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type Sqlite from "better-sqlite3";
import { codesOf } from "./errors.js";

// The adapter's types, from the package this project depends on (not from Prisma's internals).
type SqlDriverAdapter = Awaited<ReturnType<InstanceType<typeof PrismaBetterSQLite3>["connect"]>>;
type Transaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;
type SqlQuery = Parameters<Transaction["executeRaw"]>[0];

/** Failures that mean "this file cannot take writes now" (disk full, I/O error), not a bad statement. */
function isWriteFailure(error: unknown): boolean {
  return codesOf(error).some((code) => code.startsWith("SQLITE_FULL") || code.startsWith("SQLITE_IOERR"));
}

/**
 * Whether the embedded database can take writes. A full disk leaves reads working (`SELECT 1`
 * answers) while every write fails, so readiness needs more than a read: every statement run on
 * the connection (Prisma's adapter and the hot statements share it) reports here, and while writes
 * fail, `check()` tries a one-page committed write (`PRAGMA user_version` rewritten with its own
 * value: nothing reads it) to see whether space is back.
 */
export class SqliteWriteHealth {
  private failing = false;

  constructor(private readonly connection: Sqlite.Database) {
    const prepare = connection.prepare.bind(connection);
    // Every statement, Prisma's included (its adapter prepares each query on this connection).
    connection.prepare = ((source: string) => {
      const statement = prepare(source);
      if (statement.reader) return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...params: unknown[]) => {
        try {
          const result = run(...params);
          // A write committed (autocommit, or the COMMIT itself): the disk takes writes again.
          if (!connection.inTransaction && (result.changes > 0 || /^\s*COMMIT\b/i.test(source)))
            this.failing = false;
          return result;
        } catch (error) {
          if (isWriteFailure(error)) this.failing = true;
          throw error;
        }
      }) as typeof statement.run;
      return statement;
    }) as typeof connection.prepare;
  }

  /** Throws while writes fail and a probe write still fails; clears once one succeeds. */
  check(): void {
    if (!this.failing) return;
    // Inside a Prisma transaction the probe would join it: report the last known state.
    if (this.connection.inTransaction) throw new Error("SQLite writes are failing (disk full or I/O error)");
    try {
      const version = this.connection.pragma("user_version", { simple: true });
      this.connection.pragma(`user_version = ${Number(version)}`);
      this.failing = false;
    } catch (error) {
      throw new Error("SQLite writes are failing (disk full or I/O error)", { cause: error });
    }
  }
}

/**
 * Prisma's better-sqlite3 adapter (6.19) holds a mutex from BEGIN until its transaction's
 * `commit()` or `rollback()`, and Prisma calls those only after its own `COMMIT` / `ROLLBACK`
 * statement succeeded. After SQLITE_FULL, SQLite may already have rolled the transaction back, so
 * that ROLLBACK fails ("no transaction is active"), or the COMMIT itself fails: the mutex is never
 * released and every later `$transaction` waits for it forever — logout, register, and the
 * shutdown that waits for them. Here a failed COMMIT or ROLLBACK ends the transaction on the
 * connection and releases the mutex; a failed ROLLBACK is taken as done, a failed COMMIT still fails.
 */
export function releaseTransactionsOnFailure(adapter: SqlDriverAdapter, connection: Sqlite.Database): void {
  const start = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => guard(await start(isolationLevel), connection);
}

function guard(transaction: Transaction, connection: Sqlite.Database): Transaction {
  let released = false;
  const once = (end: () => Promise<void>) => async () => {
    if (released) return;
    released = true;
    await end();
  };
  const release = once(transaction.rollback.bind(transaction));
  transaction.commit = once(transaction.commit.bind(transaction));
  transaction.rollback = release;
  const executeRaw = transaction.executeRaw.bind(transaction);
  transaction.executeRaw = async (query: SqlQuery) => {
    const ending = /^\s*(COMMIT|ROLLBACK)\b/i.exec(query.sql)?.[1]?.toUpperCase();
    if (!ending) return executeRaw(query);
    try {
      return await executeRaw(query);
    } catch (error) {
      if (connection.inTransaction) {
        try {
          connection.exec("ROLLBACK");
        } catch {
          // Still open: the next BEGIN fails with an error (a 503), which beats waiting forever.
        }
      }
      await release();
      if (ending === "ROLLBACK" && !connection.inTransaction) return 0;
      throw error;
    }
  };
  return transaction;
}
