import Sqlite from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";

/** What the process sent to its databases while a counter was open. */
export interface DriverCounts {
  /**
   * Round trips to the database: on PostgreSQL every query the pg client sends (BEGIN and COMMIT
   * included); on SQLite every entry into the driver, i.e. a statement run outside a transaction
   * (a transaction counts once, by its BEGIN).
   */
  sqlRoundTrips: number;
  /** Every SQL statement executed, BEGIN/COMMIT included. */
  sqlStatements: number;
  /** Redis commands, without the connections' heartbeat PINGs. */
  redisCommands: number;
  /** The statements' text, in order, shortened: to show what a count is made of. */
  log: string[];
}

type Patched = { target: object; key: string; original: unknown };

/**
 * Instruments the drivers themselves (pg's Client, better-sqlite3's Statement, ioredis), so every
 * path counts: Prisma's queries, the hot statements and the rate limiter's Redis commands alike.
 * Deterministic: it counts messages, not time. Install before the work, read, then `restore()`.
 */
export function countDriverCalls(): { read(): DriverCounts; reset(): void; restore(): void } {
  let counts: DriverCounts = { sqlRoundTrips: 0, sqlStatements: 0, redisCommands: 0, log: [] };
  const patched: Patched[] = [];
  const patch = (target: object, key: string, wrap: (original: (...a: unknown[]) => unknown) => unknown) => {
    const original = (target as Record<string, unknown>)[key];
    patched.push({ target, key, original });
    (target as Record<string, unknown>)[key] = wrap(original as (...a: unknown[]) => unknown);
  };
  const note = (sql: unknown) =>
    counts.log.push(
      String(typeof sql === "object" && sql !== null ? (sql as { text?: string }).text : sql)
        .replace(/\s+/g, " ")
        .slice(0, 60),
    );

  patch(
    pg.Client.prototype,
    "query",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        counts.sqlRoundTrips += 1;
        counts.sqlStatements += 1;
        note(args[0]);
        return original.apply(this, args);
      },
  );

  const probe = new Sqlite(":memory:");
  const statementPrototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as object;
  probe.close();
  for (const method of ["run", "get", "all", "iterate"]) {
    patch(
      statementPrototype,
      method,
      (original) =>
        function (this: { database: Sqlite.Database; source: string }, ...args: unknown[]) {
          counts.sqlStatements += 1;
          if (!this.database.inTransaction) counts.sqlRoundTrips += 1;
          note(this.source);
          return original.apply(this, args);
        },
    );
  }

  patch(
    Redis.prototype,
    "sendCommand",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const command = args[0] as { name?: string; args?: unknown[] } | undefined;
        const name = command?.name;
        // Keep-alive pings and the revocation feed's heartbeats run on timers, not for a request.
        const heartbeat = name === "publish" && String(command?.args?.[1]).startsWith('{"h":');
        if (name !== "ping" && !heartbeat) {
          counts.redisCommands += 1;
          counts.log.push(`redis ${name}`);
        }
        return original.apply(this, args);
      },
  );

  return {
    read: () => ({ ...counts, log: [...counts.log] }),
    reset() {
      counts = { sqlRoundTrips: 0, sqlStatements: 0, redisCommands: 0, log: [] };
    },
    restore() {
      for (const p of patched.reverse()) (p.target as Record<string, unknown>)[p.key] = p.original;
    },
  };
}
