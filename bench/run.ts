// Load benchmark of the real server: `npm run bench [-- <scenario> …]`, `npm run bench -- --list`.
// `npm run bench -- performance` runs instead the in-process side-by-side benches of issue 17, one
// after another, each printing its own table (see PERFORMANCE below); `npm run bench -- storm` runs
// bench/storm.ts (issue 25's storm, render cache on and off, and issue 27's fan-out attack).
// Every scenario gets a fresh database and its own server process(es) on 127.0.0.1; the load comes
// from this process (autocannon, or a fetch loop for refresh rotations). All scenarios are prepared
// first, then measured in turns, slice by slice, so that the noise of a shared machine falls on
// every row alike. See bench/README.md.
import { spawnSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { type BenchDatabase, createBenchDatabase } from "./harness/bench-database.js";
import { type BenchOptions, benchOptions } from "./harness/bench-options.js";
import { type Entry, loadAverage, measureInTurns, printResults, reasonOf } from "./harness/in-turns.js";
import type { Scenario } from "./harness/scenario.js";
import { startServer, stopAllServers } from "./harness/server-handle.js";
import { scenarios } from "./scenarios.js";

// Tokens and seeded revocations live ACCESS_TOKEN_TTL_SECONDS (900 s, BENCH_SERVER_ENV) from setup:
// a run must end well before that, or the later slices would measure refusals.
const MAX_MEASURED_SECONDS = 600;
const PREPARE_CONCURRENCY = 3;

/**
 * Issue 17's measurements, each a script of its own (in process, both sides in turns), with the
 * arguments its table in bench/README.md was taken with.
 */
const PERFORMANCE: readonly { script: string; args: string[]; what: string }[] = [
  { script: "rotation-cost", args: ["50", "3"], what: "a rotation's round trips and CPU, before and now" },
  { script: "read-paths", args: ["200", "3"], what: "hot reads: Prisma, $queryRaw, prepared statement" },
  { script: "typical-stack", args: ["200", "3"], what: "against Apollo + jose + graphql-shield + Prisma" },
  { script: "login-storm", args: ["50", "3"], what: "event-loop delay through 50 concurrent logins" },
  { script: "dpop-me", args: ["300", "3"], what: "a DPoP-bound request against a Bearer one" },
  { script: "scale-out", args: [], what: "rotations over HTTP on PostgreSQL + Redis, one and two instances" },
];

/** Issue 25's storm and issue 27's attack: WebSocket clients by the thousand, a script of its own. */
const STORM = {
  script: "storm",
  args: [],
  what: "subscriptions, a note flood and logouts at once; the fan-out attack",
};

function runSuite(benches: readonly { script: string; args: string[]; what: string }[]): number {
  let failed = 0;
  for (const bench of benches) {
    console.log(`\n## ${bench.script} — ${bench.what}\n`);
    const script = fileURLToPath(new URL(`./${bench.script}.ts`, import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", script, ...bench.args], { stdio: "inherit" });
    if (run.status !== 0) {
      failed += 1;
      console.log(`(${bench.script} failed: exit ${run.status ?? run.signal})`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function select(args: readonly string[]): Scenario[] {
  const names = args.filter((a) => !a.startsWith("-"));
  if (names.length === 0) return scenarios.filter((s) => !s.optIn);
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s): ${unknown.join(", ")}; known: ${scenarios.map((s) => s.name).join(", ")}`,
    );
  }
  return names.map((n) => scenarios.find((s) => s.name === n)!);
}

async function prepare(entry: Entry, options: BenchOptions, databases: BenchDatabase[]): Promise<void> {
  const { scenario } = entry;
  const database = await createBenchDatabase(scenario.database ?? "sqlite");
  databases.push(database);
  const seeding = await database.open();
  try {
    await scenario.seed?.(seeding.prisma, options);
  } finally {
    await seeding.close();
  }
  const env = { ...scenario.env, DATABASE_URL: database.url };
  const servers = [];
  for (let i = 0; i < (scenario.instances ?? 1); i++) servers.push(await startServer(env));
  entry.servers = servers;
  const prepared = await scenario.prepare({ servers, options });
  entry.driver = prepared.driver;
  if (prepared.note !== undefined) entry.note = prepared.note;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--list")) {
    for (const s of scenarios) console.log(`${s.name.padEnd(20)} ${s.optIn ? "(opt-in) " : ""}${s.summary}`);
    console.log(
      `${"performance".padEnd(20)} (suite) ${PERFORMANCE.map((b) => b.script).join(", ")}: issue 17`,
    );
    console.log(`${"storm".padEnd(20)} (suite) ${STORM.what}: issues 25 and 27`);
    return;
  }
  if (args.length === 1 && args[0] === "performance") {
    process.exitCode = runSuite(PERFORMANCE);
    return;
  }
  if (args.length === 1 && args[0] === "storm") {
    process.exitCode = runSuite([STORM]);
    return;
  }
  const selected = select(args);
  const options = benchOptions(process.env);
  const slices = Math.ceil(options.seconds / options.sliceSeconds);
  if ((slices * options.sliceSeconds + options.warmupSeconds) * selected.length > MAX_MEASURED_SECONDS) {
    throw new Error(`too long for one run: select fewer scenarios or lower BENCH_SECONDS`);
  }
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `Holdfast bench ${new Date().toISOString()} · ${availableParallelism()} × ${cpu} · Node ${process.version}`,
  );
  console.log(
    `${slices} × ${options.sliceSeconds} s measured per scenario, in turns, after ${options.warmupSeconds} s warm-up; ` +
      `${options.connections} connections; load average before: ${loadAverage()}`,
  );

  const entries: Entry[] = selected.map((scenario) => ({ scenario, samples: [] }));
  const databases: BenchDatabase[] = [];
  try {
    // A few at a time: starting a server is mostly module loading, and the machine has two cores.
    const queue = [...entries];
    const preparer = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        try {
          await prepare(entry, options, databases);
          process.stderr.write(`prepared ${entry.scenario.name}\n`);
        } catch (error) {
          // One broken scenario (the tree under test may be mid-change) must not lose the others.
          entry.failure = reasonOf(error);
          process.stderr.write(`failed to prepare ${entry.scenario.name}: ${entry.failure}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: PREPARE_CONCURRENCY }, preparer));
    await measureInTurns(entries, options, slices);
  } finally {
    await stopAllServers();
    await Promise.all(databases.map((d) => d.drop()));
  }

  printResults(entries);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    void stopAllServers().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  // A usage or setup mistake: the message is enough.
  console.error(error instanceof Error ? error.message : error);
  await stopAllServers();
  process.exitCode = 2;
}
