import { ServiceUnavailableError } from "../errors/app-error.js";

// Prisma and driver errors never leave the data layer as they are: callers get a typed
// AppError or a plain boolean answer.

/**
 * Every identifying string along an error: `code` and `kind` of the error and of its causes
 * (Prisma wraps the adapter's DriverAdapterError, which wraps the driver's SQLSTATE or errno),
 * and the adapter error Prisma keeps in `meta.driverAdapterError`.
 */
export function codesOf(error: unknown, depth = 0): string[] {
  if (typeof error !== "object" || error === null || depth > 6) return [];
  const e = error as {
    code?: unknown;
    kind?: unknown;
    originalCode?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: unknown };
  };
  const own = [e.code, e.kind, e.originalCode].filter((v): v is string => typeof v === "string");
  return [...own, ...codesOf(e.cause, depth + 1), ...codesOf(e.meta?.driverAdapterError, depth + 1)];
}

function messagesOf(error: unknown, depth = 0): string {
  if (typeof error !== "object" || error === null || depth > 6) return "";
  const e = error as { message?: unknown; originalMessage?: unknown; cause?: unknown };
  const own = [e.message, e.originalMessage].filter((v) => typeof v === "string").join("\n");
  return `${own}\n${messagesOf(e.cause, depth + 1)}`;
}

/** P2002 (or the adapter's UniqueConstraintViolation): a unique constraint refused the write. */
export function isUniqueViolation(error: unknown): boolean {
  const codes = codesOf(error);
  return codes.includes("P2002") || codes.includes("UniqueConstraintViolation");
}

/**
 * The families of errors that mean "the database is unavailable or slow right now": the same
 * request may succeed later, and nothing was written. Each has a test in test/unit/db/.
 */
export const UNAVAILABLE_FAMILIES = {
  /** Prisma's own codes: cannot reach, timed out, connection closed, pool timeout, too many
   *  connections, transaction expired or could not start in time (P2028). */
  prisma: ["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2037"],
  /** Driver adapter kinds (@prisma/driver-adapter-utils): SQLITE_BUSY arrives as SocketTimeout. */
  adapter: ["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"],
  /** Socket errors from Node under pg. */
  socket: ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"],
  /** PostgreSQL SQLSTATEs (Appendix A): connection exceptions, insufficient resources, statement
   *  cancelled by statement_timeout (57014), lock_timeout (55P03), shutdown and start-up. */
  sqlstate: [
    "08000",
    "08001",
    "08003",
    "08004",
    "08006",
    "53000",
    "53100",
    "53200",
    "53300",
    "55P03",
    "57014",
    "57P01",
    "57P02",
    "57P03",
  ],
  /** SQLite result codes (sqlite.org/rescode.html): locked or busy past busy_timeout, I/O errors,
   *  the file gone or moved, the disk full. */
  sqlite: [
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_FULL",
  ],
} as const;

const UNAVAILABLE_CODES = new Set<string>(Object.values(UNAVAILABLE_FAMILIES).flat());

/** Extended SQLite codes (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED…) share the primary's prefix. */
function primarySqliteCode(code: string): string {
  const match = /^(SQLITE_[A-Z]+)_/.exec(code);
  return match ? match[1]! : code;
}

/** What pg and pg-pool say, without a code, when the server went away or never answered. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|Query read timeout|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end|server closed the connection|database system is (shutting down|starting up|in recovery mode|not yet accepting connections)|Can't reach database/i;

/** True when `error` means the database is unavailable or too slow: retry later, nothing happened. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ServiceUnavailableError) return true;
  if (
    codesOf(error).some(
      (code) => UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CODES.has(primarySqliteCode(code)),
    )
  )
    return true;
  return UNAVAILABLE_MESSAGE.test(messagesOf(error));
}

/** Runs a database call; a dependency outage becomes a retryable SERVICE_UNAVAILABLE. */
export async function withDatabase<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isDatabaseUnavailable(error))
      throw new ServiceUnavailableError(undefined, undefined, { cause: error });
    throw error;
  }
}
