import { existsSync } from "node:fs";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type Sqlite from "better-sqlite3";
import type pg from "pg";
import type { Config } from "../config/config.js";
import { PrismaClient as PostgresClient } from "./generated/postgres/index.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/index.js";
import { GuardedPgPool } from "./guarded-pg-pool.js";
import { migrate, sqliteFilePath } from "./migrate.js";
import { releaseTransactionsOnFailure, SqliteWriteHealth } from "./sqlite-write-guard.js";
import { checkDatabaseAtStart, DatabaseStartupError, describeStartupFailure } from "./startup-check.js";

/**
 * Both generated clients expose the same model API (they come from one models.prisma), so the
 * rest of the code is typed against one of them.
 */
export type Prisma = SqliteClient;
export type { AuditEvent, RefreshToken, Session, SigningKey, User } from "./generated/sqlite/index.js";
/** One write of a batch transaction, built but not yet sent (Prisma sends it with `$transaction([...])`). */
export type DbWrite = import("./generated/sqlite/index.js").PrismaPromise<unknown>;

/**
 * The driver under Prisma, for the few hot statements that skip Prisma's query compiler (see
 * src/db/hot-sql.ts): the same better-sqlite3 connection, or the same pg pool, that Prisma uses.
 */
export type DriverHandle =
  | { readonly provider: "sqlite"; readonly connection: Sqlite.Database }
  | { readonly provider: "postgres"; readonly pool: pg.Pool };

export interface Database {
  readonly prisma: Prisma;
  readonly provider: "sqlite" | "postgres";
  readonly driver: DriverHandle;
  /** Throws when the database cannot answer, or (SQLite) cannot take writes (a full disk). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The one bound on a request's database work (README, "When parts fail"): waiting for a pooled
 * connection, a lock, a statement or a whole transaction ends by then, and the request answers a
 * retryable 503 SERVICE_UNAVAILABLE. Every timeout below derives from it.
 */
export const DATABASE_TIMEOUT_MS = 5000;

/** Server side, a statement (lock waits included) is cancelled a little before the transaction expires, so
 * the cancellation, not Prisma's expiry timer, ends it, and the connection stays usable. */
const STATEMENT_TIMEOUT_MS = DATABASE_TIMEOUT_MS - 500;

/** Prisma's transaction limits: time to get a connection and BEGIN, and the whole transaction's life. */
export const TRANSACTION_OPTIONS = { maxWait: DATABASE_TIMEOUT_MS, timeout: DATABASE_TIMEOUT_MS } as const;

/** A start-up step: on failure the client is closed and the error named in one line. */
async function atStart(
  prisma: Prisma,
  url: string,
  step: (prisma: Prisma) => Promise<void>,
  cleanup: () => Promise<void> = async () => {},
): Promise<void> {
  try {
    await step(prisma);
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    await cleanup().catch(() => {});
    const message = describeStartupFailure(error, url);
    throw message ? new DatabaseStartupError(message, { cause: error }) : error;
  }
}

/**
 * Opens (and on the embedded default migrates) the database, and checks it can serve this release.
 * A database that cannot (unreachable, missing, not migrated) ends in a DatabaseStartupError whose
 * message names the problem and the fix in one line.
 */
export async function openDatabase(config: Config["database"]): Promise<Database> {
  try {
    if (config.autoMigrate) await migrate(config.provider, config.url);
  } catch (error) {
    const message = describeStartupFailure(error, config.url);
    throw message ? new DatabaseStartupError(message, { cause: error }) : error;
  }
  let prisma: Prisma;
  let driver: DriverHandle;
  let writeHealth: SqliteWriteHealth | null = null;
  if (config.provider === "sqlite") {
    // busy timeout (ms): a second writer waits instead of failing with SQLITE_BUSY.
    const factory = new PrismaBetterSQLite3({ url: sqliteFilePath(config.url), timeout: 5000 });
    const captured = capturingSqliteConnection(factory);
    // busy_timeout above bounds lock waits; the transaction limits bound the rest.
    prisma = new SqliteClient({ adapter: captured.adapter, transactionOptions: TRANSACTION_OPTIONS });
    // WAL is persistent (set by the migrator); synchronous is per connection. WAL + NORMAL is
    // durable against process crashes, and ~1.3x faster than the default here.
    await atStart(prisma, config.url, async (client) => {
      await client.$queryRawUnsafe("PRAGMA journal_mode = WAL");
      await client.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    });
    driver = { provider: "sqlite", connection: captured.connection() };
    writeHealth = captured.writeHealth();
  } else {
    // Our pool, handed to Prisma: the hot statements share its connections, its limits and its guard.
    const pool = new GuardedPgPool({
      connectionString: config.url,
      max: config.poolSize,
      // Waiting for a pooled (or new) connection.
      connectionTimeoutMillis: DATABASE_TIMEOUT_MS,
      // The server cancels a statement that waits on a lock or runs too long (SQLSTATE 57014); the
      // connection stays usable and the transaction rolls back normally.
      statement_timeout: STATEMENT_TIMEOUT_MS,
      // A transaction left open by a client that vanished mid-way does not hold its locks for long.
      idle_in_transaction_session_timeout: DATABASE_TIMEOUT_MS * 2,
      // A server that hangs (stopped, or a black-holed network) keeps connections open and never
      // answers, so it cannot cancel anything itself: the client gives up on a statement by then
      // and the guarded pool drops that connection.
      query_timeout: DATABASE_TIMEOUT_MS,
    });
    // An idle connection that dies (server restart) emits on the pool; the next query on it reports
    // the failure. Without a listener the emission would end the process.
    pool.on("error", () => {});
    prisma = new PostgresClient({
      adapter: new PrismaPg(pool),
      transactionOptions: TRANSACTION_OPTIONS,
    }) as unknown as Prisma;
    driver = { provider: "postgres", pool };
  }
  const openDriver = driver;
  await atStart(
    prisma,
    config.url,
    (client) => checkDatabaseAtStart(client, config.provider, config.url),
    async () => {
      if (openDriver.provider === "postgres") await openDriver.pool.end();
    },
  );
  const sqliteFile = config.provider === "sqlite" ? sqliteFilePath(config.url) : null;
  return {
    prisma,
    provider: config.provider,
    driver,
    async ping() {
      // A SQLite file deleted while open keeps answering from its unlinked inode, and everything
      // written from then on is lost when the process ends: not ready.
      if (sqliteFile && !existsSync(sqliteFile)) throw new Error(`SQLite file ${sqliteFile} is gone`);
      await prisma.$queryRawUnsafe("SELECT 1");
      writeHealth?.check();
    },
    async close() {
      await prisma.$disconnect();
      if (driver.provider === "postgres") await driver.pool.end();
    },
  };
}

type SqliteAdapterFactory = InstanceType<typeof PrismaBetterSQLite3>;

/**
 * Prisma's SQLite adapter opens its own better-sqlite3 connection and keeps it as `client`. The
 * hot statements use that same connection rather than a second one: a second connection would
 * meet Prisma's transactions as SQLITE_BUSY (or, for one that read first, SQLITE_BUSY_SNAPSHOT,
 * which no busy timeout cures). On one connection they only need to wait until no Prisma
 * transaction is open (hot-sql.ts checks `inTransaction`).
 */
function capturingSqliteConnection(factory: SqliteAdapterFactory): {
  adapter: SqliteAdapterFactory;
  connection(): Sqlite.Database;
  writeHealth(): SqliteWriteHealth;
} {
  let connection: Sqlite.Database | null = null;
  let health: SqliteWriteHealth | null = null;
  const adapter = Object.create(factory) as SqliteAdapterFactory;
  // The factory keeps its settings in private fields: its methods must run on the factory itself.
  adapter.connectToShadowDb = () => factory.connectToShadowDb();
  adapter.connect = async () => {
    const opened = await factory.connect();
    const client = (opened as unknown as { client?: Partial<Sqlite.Database> }).client;
    // By shape, not instanceof: an application whose install nests a second better-sqlite3 under
    // the adapter has two classes of the same connection.
    if (typeof client?.prepare !== "function" || typeof client.inTransaction !== "boolean") {
      throw new Error("@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`");
    }
    connection = client as Sqlite.Database;
    health = new SqliteWriteHealth(connection);
    releaseTransactionsOnFailure(opened, connection);
    return opened;
  };
  return {
    adapter,
    connection() {
      if (!connection) throw new Error("the SQLite adapter has not connected yet");
      return connection;
    },
    writeHealth() {
      if (!health) throw new Error("the SQLite adapter has not connected yet");
      return health;
    },
  };
}
