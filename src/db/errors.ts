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
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "SQLITE_BUSY",
]);

function looksUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && UNAVAILABLE.has(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return /ECONNREFUSED|Connection terminated|connect ETIMEDOUT|database system is (shutting down|starting up)|timeout exceeded when trying to connect|Query read timeout|Can't reach database/i.test(
    message,
  );
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
