// `holdfast migrate` (and `npm run db:migrate` in this repository): applies Holdfast's pending
// migrations to DATABASE_URL, SQLite or PostgreSQL.
import { ConfigError, loadConfig } from "../config/config.js";
import { migrate } from "./migrate.js";
import { describeStartupFailure, describeTarget } from "./startup-check.js";

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Runs the migration; resolves to the process exit code (0 done, 1 failed). */
export async function migrateCommand(
  env: Record<string, string | undefined>,
  io: CliOutput,
): Promise<number> {
  let database: { provider: "sqlite" | "postgres"; url: string };
  try {
    ({ database } = loadConfig(env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  const target = describeTarget(database.url);
  try {
    const { applied, movedLegacyLayout } = await migrate(database.provider, database.url);
    if (movedLegacyLayout) {
      io.out(
        `${target}: moved Holdfast's tables of the earlier layout, rows kept, ${database.provider === "sqlite" ? "to holdfast_ names" : "into schema holdfast"}`,
      );
    }
    io.out(
      applied.length
        ? `${target}: applied ${applied.join(", ")}`
        : `${target}: Holdfast's tables are up to date`,
    );
    return 0;
  } catch (error) {
    // One line naming the problem; the driver's own words (never the URL's password) otherwise.
    io.err(
      `holdfast migrate: ${describeStartupFailure(error, database.url) ?? `${target}: ${error instanceof Error ? error.message : String(error)}`}`,
    );
    return 1;
  }
}
