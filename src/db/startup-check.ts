import type { Prisma } from "./database.js";
import { codesOf, isDatabaseUnavailable } from "./errors.js";
import { MIGRATIONS_TABLE, readMigrations } from "./migration-bookkeeping.js";

/** The database cannot serve this release; the message names the problem and the fix, in one line. */
export class DatabaseStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatabaseStartupError";
  }
}

/** How an operator applies Holdfast's migrations (`npm run db:migrate` runs the same inside this repository). */
const MIGRATE_COMMAND = "npx holdfast migrate";

/** Where DATABASE_URL points, without the password. */
export function describeTarget(url: string): string {
  if (url.startsWith("file:")) return url;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

/** One line for an error met while opening the database at start, or null when it is not about the database. */
export function describeStartupFailure(error: unknown, url: string): string | null {
  if (error instanceof DatabaseStartupError) return error.message;
  const codes = codesOf(error);
  const target = describeTarget(url);
  const has = (...names: string[]) => names.some((n) => codes.includes(n));
  if (has("P2021", "TableDoesNotExist", "42P01"))
    return `database ${target} is not migrated: run \`${MIGRATE_COMMAND}\` (with the same DATABASE_URL), then start again`;
  if (has("P1003", "DatabaseDoesNotExist", "3D000"))
    return `database ${target} does not exist: create it (e.g. \`createdb\`) or fix DATABASE_URL, run \`${MIGRATE_COMMAND}\`, then start again`;
  if (has("P1000", "AuthenticationFailed", "28P01", "28000", "DatabaseAccessDenied"))
    return `database ${target} refused the credentials in DATABASE_URL: fix the user or password`;
  if (has("SQLITE_CANTOPEN"))
    return `cannot open the SQLite file of DATABASE_URL (${target}): check that its directory exists and is writable`;
  if (isDatabaseUnavailable(error))
    return `cannot reach the database at ${target}: start it, or fix DATABASE_URL (then run \`${MIGRATE_COMMAND}\` once if it is new)`;
  return null;
}

/**
 * At start, before anything else reads the database: it answers, and it carries every migration of
 * this release (PostgreSQL is never migrated implicitly; `npx holdfast migrate` does it).
 */
export async function checkDatabaseAtStart(
  prisma: Prisma,
  provider: "sqlite" | "postgres",
  url: string,
): Promise<void> {
  let applied: Set<string>;
  try {
    const rows = await prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      `SELECT migration_name FROM ${MIGRATIONS_TABLE[provider]} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    applied = new Set(rows.map((r) => r.migration_name));
  } catch (error) {
    const message =
      /holdfast_migrations|_prisma_migrations/.test(String((error as Error)?.message)) ||
      codesOf(error).includes("42P01")
        ? `database ${describeTarget(url)} is not migrated: run \`${MIGRATE_COMMAND}\` (with the same DATABASE_URL), then start again`
        : describeStartupFailure(error, url);
    throw message ? new DatabaseStartupError(message, { cause: error }) : error;
  }
  const missing = readMigrations(provider).filter((m) => !applied.has(m.name));
  if (missing.length > 0) {
    throw new DatabaseStartupError(
      `database ${describeTarget(url)} lacks ${missing.length} migration(s) of this release (${missing[0]!.name}…): run \`${MIGRATE_COMMAND}\`, then start again`,
    );
  }
}
