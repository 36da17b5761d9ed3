import pg from "pg";

// Why this exists: when a statement inside a Prisma transaction outlives the transaction's
// timeout, Prisma's transaction manager sends ROLLBACK from a timer, with nobody awaiting it. On
// a connection stuck behind a lock or a hung server that ROLLBACK fails too ("Query read timeout",
// "Connection terminated"), the rejection is unhandled and Node ends the process; and because
// the adapter only releases the connection after a successful ROLLBACK, the pool also loses it.
//
// The guard works at the pg level, under the adapter: a connection on which a statement failed
// for a connection-level reason is closed at once (the server rolls back a session's open
// transaction when it goes away, PostgreSQL docs §13.3 / "Ending a session"), and a ROLLBACK
// on a connection that is gone resolves instead of failing: the rollback has already happened.

const BROKEN = Symbol("holdfast.brokenConnection");
const GUARDED = Symbol("holdfast.guardedConnection");

interface GuardedClient extends pg.PoolClient {
  [BROKEN]?: Error;
  [GUARDED]?: true;
}

/** Errors after which a connection cannot be trusted with another statement. */
function breaksConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  // A server error (SQLSTATE in `code`, with `severity`) leaves the connection usable, except
  // the ones that end the session (class 08 connection exception, 57P0x shutdown).
  const e = error as Error & { code?: unknown; severity?: unknown };
  if (typeof e.severity === "string" && typeof e.code === "string") {
    return e.code.startsWith("08") || e.code.startsWith("57P");
  }
  return true;
}

function isRollback(config: unknown): boolean {
  const text = typeof config === "string" ? config : (config as { text?: unknown } | null)?.text;
  return typeof text === "string" && text.trim().toUpperCase() === "ROLLBACK";
}

function guard(client: GuardedClient): GuardedClient {
  if (client[GUARDED]) return client;
  client[GUARDED] = true;
  // A dead socket emits "error" on the client; while checked out nobody else may listen.
  client.on("error", () => {});
  // The class's method, looked up at call time rather than captured here, so what wraps pg's
  // Client (instrumentation, tracing) after a connection was pooled still sees its queries.
  const query = (...args: unknown[]): unknown =>
    (Object.getPrototypeOf(client) as { query: (...a: unknown[]) => unknown }).query.apply(client, args);
  const guarded = (...args: unknown[]): unknown => {
    // Callback forms (pg-pool's own pool.query) keep pg's behaviour; the adapter uses promises.
    if (args.some((a) => typeof a === "function")) return query(...args);
    const rollback = isRollback(args[0]);
    const broken = client[BROKEN];
    if (broken) return rollback ? Promise.resolve(emptyResult()) : Promise.reject(broken);
    return (query(...args) as Promise<unknown>).catch((error: unknown) => {
      if (breaksConnection(error) || rollback) {
        const reason = error instanceof Error ? error : new Error(String(error));
        client[BROKEN] = reason;
        // With a statement still in flight, end() destroys the socket (pg Client#end).
        client.end().catch(() => {});
        if (rollback) return emptyResult();
      }
      throw error;
    });
  };
  (client as unknown as { query: unknown }).query = guarded;
  return client;
}

function emptyResult() {
  return { command: "ROLLBACK", rowCount: 0, oid: 0, rows: [], fields: [] };
}

/** A pg pool whose checked-out connections never fail a ROLLBACK and are dropped once broken. */
export class GuardedPgPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<pg.PoolClient> | undefined {
    if (callback) {
      super.connect(callback);
      return undefined;
    }
    return super.connect().then((client) => guard(client as GuardedClient));
  }
}
