// Load benchmark of the real server: `npm run bench [-- <scenario> …]`, `npm run bench -- --list`.
// Each scenario gets a fresh database and freshly started server process(es) on 127.0.0.1; the load
// comes from this process (autocannon, or a fetch loop for refresh rotations). See bench/README.md.
import { availableParallelism, cpus, loadavg } from "node:os";
import { createBenchDatabase } from "./harness/bench-database.js";
import { type BenchOptions, benchOptions } from "./harness/bench-options.js";
import type { Measurement } from "./harness/measurement.js";
import { resultsTable, type ScenarioResult } from "./harness/results-table.js";
import type { Scenario } from "./harness/scenario.js";
import { type ServerHandle, startServer, stopAllServers } from "./harness/server-handle.js";
import { scenarios } from "./scenarios.js";

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

async function runScenario(scenario: Scenario, options: BenchOptions): Promise<Measurement> {
  const database = await createBenchDatabase(scenario.database ?? "sqlite");
  const servers: ServerHandle[] = [];
  try {
    const seeding = await database.open();
    try {
      await scenario.seed?.(seeding.prisma, options);
    } finally {
      await seeding.close();
    }
    const env = { ...scenario.env, DATABASE_URL: database.url };
    for (let i = 0; i < (scenario.instances ?? 1); i++) servers.push(await startServer(env));
    return await scenario.run({ servers, options });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--list")) {
    for (const s of scenarios) console.log(`${s.name.padEnd(20)} ${s.optIn ? "(opt-in) " : ""}${s.summary}`);
    return;
  }
  const selected = select(args);
  const options = benchOptions(process.env);
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `Holdfast bench ${new Date().toISOString()} · ${availableParallelism()} × ${cpu} · Node ${process.version}` +
      ` · load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  console.log(
    `${options.seconds} s measured after ${options.warmupSeconds} s warm-up per scenario, ` +
      `${options.connections} connections, ${options.rounds} round(s)\n`,
  );

  const results = selected.map((scenario) => ({
    scenario,
    rounds: [] as Measurement[],
    failures: [] as string[],
  })) satisfies ScenarioResult[];
  for (let round = 1; round <= options.rounds; round++) {
    for (const result of results) {
      process.stderr.write(`round ${round}/${options.rounds} · ${result.scenario.name} … `);
      try {
        const measurement = await runScenario(result.scenario, options);
        process.stderr.write(`${measurement.perSecond.toFixed(0)} ops/s\n`);
        result.rounds.push(measurement);
      } catch (error) {
        // One broken scenario (the tree under test may be mid-change) must not lose the others.
        const reason = error instanceof Error ? error.message : String(error);
        process.stderr.write(`failed: ${reason}\n`);
        result.failures.push(reason.split("\n")[0]!.slice(0, 300));
      }
    }
  }
  console.log(`\n${resultsTable(results)}`);
  console.log(
    `\nload average after the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  if (results.some((r) => r.failures.length > 0)) process.exitCode = 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    void stopAllServers().finally(() => process.exit(130));
  });
}

await main();
