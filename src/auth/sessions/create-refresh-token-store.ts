import type { DriverHandle } from "../../db/database.js";
import { PostgresRefreshTokenStore } from "./postgres-refresh-token-store.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import { SqliteRefreshTokenStore } from "./sqlite-refresh-token-store.js";

/** The refresh-token store for the configured driver (its own file: the interface's module imports no implementation). */
export function createRefreshTokenStore(driver: DriverHandle): RefreshTokenStore {
  return driver.provider === "sqlite"
    ? new SqliteRefreshTokenStore(driver.connection)
    : new PostgresRefreshTokenStore(driver.pool);
}
