import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import Sqlite from "better-sqlite3";
import pg from "pg";
import type { Config } from "../config/config.js";
import { PrismaClient as PostgresClient } from "./generated/postgres/index.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/index.js";
import { migrate, sqliteFilePath } from "./migrate.js";

/**
 * Both generated clients expose the same model API (they come from one models.prisma), so the
 * rest of the code is typed against one of them.
 */
export type Prisma = SqliteClient;
export type { AuditEvent, Note, RefreshToken, Session, SigningKey, User } from "./generated/sqlite/index.js";

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
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 5000;

export async function openDatabase(config: Config["database"]): Promise<Database> {
  if (config.autoMigrate) await migrate(config.provider, config.url);
  let prisma: Prisma;
  let driver: DriverHandle;
  if (config.provider === "sqlite") {
    // busy timeout (ms): a second writer waits instead of failing with SQLITE_BUSY.
    const factory = new PrismaBetterSQLite3({ url: sqliteFilePath(config.url), timeout: 5000 });
    const captured = capturingSqliteConnection(factory);
    prisma = new SqliteClient({ adapter: captured.adapter });
    // WAL is persistent (set by the migrator); synchronous is per connection. WAL + NORMAL is
    // durable against process crashes, and ~1.3x faster than the default here.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    driver = { provider: "sqlite", connection: captured.connection() };
  } else {
    // Our pool, handed to Prisma: the hot statements share its connections and its limits.
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A server that hangs (stopped, or a black-holed network) keeps pooled connections open and
      // never answers: without a bound a request would wait for TCP to give up, minutes later.
      // Every Holdfast query is a key lookup or a small write, so this only cuts off a dead server;
      // a pool query that times out is discarded with its connection.
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // An idle connection that dies (server restart) emits on the pool; the next query on it reports
    // the failure. Without a listener the emission would end the process.
    pool.on("error", () => {});
    prisma = new PostgresClient({ adapter: new PrismaPg(pool) }) as unknown as Prisma;
    driver = { provider: "postgres", pool };
  }
  return {
    prisma,
    provider: config.provider,
    driver,
    async ping() {
      await prisma.$queryRawUnsafe("SELECT 1");
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
} {
  let connection: Sqlite.Database | null = null;
  const adapter = Object.create(factory) as SqliteAdapterFactory;
  // The factory keeps its settings in private fields: its methods must run on the factory itself.
  adapter.connectToShadowDb = () => factory.connectToShadowDb();
  adapter.connect = async () => {
    const opened = await factory.connect();
    const client = (opened as unknown as { client?: unknown }).client;
    if (!(client instanceof Sqlite)) {
      throw new Error("@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`");
    }
    connection = client;
    return opened;
  };
  return {
    adapter,
    connection() {
      if (!connection) throw new Error("the SQLite adapter has not connected yet");
      return connection;
    },
  };
}
