import { ServiceUnavailableError } from "../errors/app-error.js";

// Prisma and driver errors never leave the data layer as they are: callers get a typed
// AppError or a plain boolean answer.

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown };
  if (typeof e.code === "string") return e.code;
  return codeOf(e.cause);
}

/** P2002: a unique constraint refused the write. */
export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === "P2002";
}

const UNAVAILABLE = new Set([
  "P1001", // can't reach database server
  "P1002",
  "P1008", // operation timed out
  "P1017", // server closed the connection
  "P2024", // pool timeout
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "SQLITE_BUSY",
]);

// What pg and Prisma say when the server went away under a query, a transaction or a connect.
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|Connection terminated|connect ETIMEDOUT|database system is (shutting down|starting up|in recovery mode|not yet accepting connections)|terminating connection due to|server closed the connection|not queryable|timeout exceeded when trying to connect|Query read timeout|Can't reach database/i;

function messagesOf(error: unknown, depth = 0): string {
  if (typeof error !== "object" || error === null || depth > 5) return "";
  const e = error as { message?: unknown; cause?: unknown };
  const own = typeof e.message === "string" ? e.message : "";
  return `${own}\n${messagesOf(e.cause, depth + 1)}`;
}

/** Every code along the cause chain: Prisma wraps the driver's error, which may carry the SQLSTATE. */
function codesOf(error: unknown, depth = 0): string[] {
  if (typeof error !== "object" || error === null || depth > 5) return [];
  const e = error as { code?: unknown; cause?: unknown };
  return [...(typeof e.code === "string" ? [e.code] : []), ...codesOf(e.cause, depth + 1)];
}

function looksUnavailable(error: unknown): boolean {
  if (codesOf(error).some((code) => UNAVAILABLE.has(code))) return true;
  return UNAVAILABLE_MESSAGE.test(messagesOf(error));
}

/** Runs a database call; a dependency outage becomes a retryable SERVICE_UNAVAILABLE. */
export async function withDatabase<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (looksUnavailable(error)) throw new ServiceUnavailableError();
    throw error;
  }
}
