import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
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

export interface Database {
  readonly prisma: Prisma;
  readonly provider: "sqlite" | "postgres";
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 5000;

export async function openDatabase(config: Config["database"]): Promise<Database> {
  if (config.autoMigrate) await migrate(config.provider, config.url);
  let prisma: Prisma;
  if (config.provider === "sqlite") {
    // busy timeout (ms): a second writer waits instead of failing with SQLITE_BUSY.
    const adapter = new PrismaBetterSQLite3({ url: sqliteFilePath(config.url), timeout: 5000 });
    prisma = new SqliteClient({ adapter });
    // WAL is persistent (set by the migrator); synchronous is per connection. WAL + NORMAL is
    // durable against process crashes, and ~1.3x faster than the default here.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
  } else {
    const adapter = new PrismaPg({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A server that hangs (stopped, or a black-holed network) keeps pooled connections open and
      // never answers: without a bound a request would wait for TCP to give up, minutes later.
      // Every Holdfast query is a key lookup or a small write, so this only cuts off a dead server;
      // a pool query that times out is discarded with its connection.
      query_timeout: QUERY_TIMEOUT_MS,
    });
    prisma = new PostgresClient({ adapter }) as unknown as Prisma;
  }
  return {
    prisma,
    provider: config.provider,
    async ping() {
      await prisma.$queryRawUnsafe("SELECT 1");
    },
    close: () => prisma.$disconnect(),
  };
}
