import { loadavg } from "node:os";
import type { LoadDriver } from "./load-driver.js";
import { type Sample, summarize } from "./measurement.js";
import { resultsTable, type ScenarioResult } from "./results-table.js";
import type { Scenario } from "./scenario.js";
import type { ServerHandle } from "./server-handle.js";

/** One scenario of a run: prepared first, then measured in turns with the others. */
export interface Entry {
  readonly scenario: Scenario;
  readonly samples: Sample[];
  servers?: readonly ServerHandle[];
  driver?: LoadDriver;
  note?: string;
  failure?: string;
}

/** The first line of an error, for a table cell. */
export const reasonOf = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300);

/**
 * Warms every prepared entry up, then measures them slice by slice in turns (A B C … A B C …), so
 * load from outside falls on every row alike. Each sample carries the servers' CPU time spent in
 * it: CPU per operation barely moves when other processes crowd the machine.
 */
export async function measureInTurns(
  entries: readonly Entry[],
  options: { warmupSeconds: number; sliceSeconds: number },
  slices: number,
): Promise<void> {
  const live = () => entries.filter((e) => e.driver !== undefined && e.failure === undefined);
  for (const entry of live()) {
    if (options.warmupSeconds > 0) await entry.driver!.run(options.warmupSeconds);
  }
  for (let slice = 1; slice <= slices; slice++) {
    process.stderr.write(`slice ${slice}/${slices}\r`);
    for (const entry of live()) {
      try {
        const cpu = () => (entry.servers ?? []).reduce((t, server) => t + server.cpuSeconds(), 0);
        const cpuBefore = cpu();
        const sample = await entry.driver!.run(options.sliceSeconds);
        entry.samples.push({ ...sample, serverCpuSeconds: cpu() - cpuBefore });
      } catch (error) {
        entry.failure = reasonOf(error);
      }
    }
  }
  process.stderr.write("\n");
}

/** The machine's 1, 5 and 15 minute load averages, printed beside every run. */
export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Prints the results table and the load after the run; a failed row makes the exit code 1. */
export function printResults(entries: readonly Entry[]): void {
  const results: ScenarioResult[] = entries.map((e) => ({
    scenario: e.scenario,
    ...(e.samples.length > 0 && e.failure === undefined ? { measurement: summarize(e.samples) } : {}),
    ...(e.note !== undefined ? { note: e.note } : {}),
    ...(e.failure !== undefined ? { failure: e.failure } : {}),
  }));
  console.log(`\n${resultsTable(results)}`);
  console.log(`\nload average after: ${loadAverage()}`);
  if (entries.some((e) => e.failure !== undefined)) process.exitCode = 1;
}
