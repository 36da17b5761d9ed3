import { type Clock, systemClock } from "../../clock.js";
import type { DriverHandle } from "../../db/database.js";
import { PostgresRefreshTokenStore } from "./postgres-refresh-token-store.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import { SqliteRefreshTokenStore } from "./sqlite-refresh-token-store.js";

/**
 * The refresh-token store for the configured driver (its own file: the interface's module imports no
 * implementation). `databaseClock` stands for the database's time in tests; null (the default) is
 * the database's own: PostgreSQL's `now()`, the host's clock for the embedded SQLite file.
 */
export function createRefreshTokenStore(
  driver: DriverHandle,
  databaseClock: Clock | null = null,
): RefreshTokenStore {
  return driver.provider === "sqlite"
    ? new SqliteRefreshTokenStore(driver.connection, databaseClock ?? systemClock)
    : new PostgresRefreshTokenStore(driver.pool, databaseClock);
}
