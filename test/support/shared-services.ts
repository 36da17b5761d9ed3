import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";

// The machine's shared PostgreSQL and Redis, as tests and benchmarks use them: throwaway databases
// and key prefixes, so concurrent runs never see each other's data.

export const SHARED_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
export const SHARED_REDIS_URL = "redis://127.0.0.1:6379";

/** Runs one statement as the PostgreSQL admin (DDL cannot take bind parameters). */
export async function adminQuery(sql: string, adminUrl = SHARED_POSTGRES_ADMIN_URL): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface EmptyDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops it WITH (FORCE), so a killed process's connections cannot block it. */
  drop(): Promise<void>;
}

/** A new, empty database named `<prefix>_<random hex>` on the admin URL's server. */
export async function createEmptyDatabase(
  prefix: string,
  adminUrl = SHARED_POSTGRES_ADMIN_URL,
): Promise<EmptyDatabase> {
  // Lower-case hex only: the name is interpolated into DDL.
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`, adminUrl);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, adminUrl),
  };
}

/** A Redis key prefix (and revocation channel) of one's own. */
export function uniqueRedisPrefix(): string {
  return `holdfast-test-${randomBytes(6).toString("hex")}:`;
}

/** Deletes every key under `prefix` from the shared Redis. */
export async function clearRedisPrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
