#!/usr/bin/env node
// The `holdfast` command. One subcommand for now: `holdfast migrate`.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CliOutput, migrateCommand } from "./db/migrate-cli.js";

const USAGE = `Usage: holdfast <command>

Commands:
  migrate    Apply Holdfast's migrations to the database in DATABASE_URL
             (PostgreSQL: schema "holdfast"; SQLite: tables named holdfast_*).
             Run it once per release before starting; the embedded SQLite default
             also migrates itself at start.

Options:
  -h, --help Show this help

Exit codes: 0 done, 1 the command failed, 2 wrong usage.`;

/** Runs `holdfast <argv>`; resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CliOutput,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (command === "migrate") {
    if (rest.includes("-h") || rest.includes("--help")) {
      io.out(USAGE);
      return 0;
    }
    if (rest.length > 0) {
      io.err(
        `holdfast migrate: unexpected argument ${JSON.stringify(rest[0])} (the database is DATABASE_URL)`,
      );
      return 2;
    }
    return migrateCommand(env, io);
  }
  io.err(
    command === undefined
      ? "holdfast: a command is required"
      : `holdfast: unknown command ${JSON.stringify(command)}`,
  );
  io.err(USAGE);
  return 2;
}

// Run when this file is the program (the `holdfast` bin or `tsx src/cli.ts`), not when imported.
// npm links the bin, so the program's path is compared once symlinks are resolved.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}
