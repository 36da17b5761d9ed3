// What `npm test` needs from the machine, checked once before any test file runs, so that a fresh
// machine fails first with one line saying what to install or start, not with a page of timeouts.
// Chromium (Debian's package) is installed here when browser tests are selected and we run as root.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = "/usr/bin/chromium";
export const PG_BIN = "/usr/lib/postgresql/15/bin";

/** The command-line file filters of this run (`vitest run a b` → [a, b]); none means the whole suite. */
function fileFilters(): string[] {
  const args = process.argv.slice(2);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "run" || arg === "watch" || arg === "related") continue;
    // Options that take a value: skip the value too.
    if (
      /^--(reporter|project|config|root|dir|testNamePattern|maxWorkers|shard|outputFile)$/.test(arg) ||
      arg === "-t"
    ) {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) filters.push(arg);
  }
  return filters;
}

/** Test files of a directory that this run selects (vitest filters are substrings of the path). */
function selected(dir: string, filters: readonly string[]): boolean {
  const files = readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".test.ts"));
  if (filters.length === 0) return files.length > 0;
  return files.some((f) => filters.some((filter) => `${dir}/${f}`.includes(filter.replace(/^\.\//, ""))));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `Chromium is missing for the browser tests: install Debian's package (sudo apt-get install -y chromium), then run npm test again`,
    );
  }
  console.info("installing Debian's chromium for the browser tests (apt-get install -y chromium)…");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
}

export default async function setup(): Promise<void> {
  const filters = fileFilters();
  const needsServers =
    filters.length === 0 || process.env.TEST_DATABASE === "postgres" || selected("test/scale-out", filters);
  if (needsServers) {
    if (!(await listening(5432)))
      throw new Error(
        "PostgreSQL is not running on 127.0.0.1:5432 (trust auth for user postgres): start it, then run npm test again",
      );
    if (!(await listening(6379)))
      throw new Error(
        "Redis is not running on 127.0.0.1:6379: start it (redis-server), then run npm test again",
      );
  }
  if ((filters.length === 0 || selected("test/scale-out", filters)) && !existsSync(join(PG_BIN, "initdb")))
    throw new Error(
      `PostgreSQL server binaries are missing at ${PG_BIN}: install Debian's postgresql-15, then run npm test again`,
    );
  if (selected("test/browser", filters)) ensureChromium();
}
