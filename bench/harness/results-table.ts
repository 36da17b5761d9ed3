import { type Measurement, pairedRatio } from "./measurement.js";
import type { Scenario } from "./scenario.js";

export interface ScenarioResult {
  readonly scenario: Scenario;
  /** Absent when the scenario failed. */
  readonly measurement?: Measurement;
  readonly note?: string;
  /** Why it failed (setup refused, the server did not start …). */
  readonly failure?: string;
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** A Markdown table (readable in a terminal, pasted as is into bench/README.md). */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const byName = new Map(results.map((r) => [r.scenario.name, r.measurement]));
  const header = [
    "scenario",
    "ops/s",
    "slices min–max",
    "p50 ms",
    "p99 ms",
    "CPU µs/op",
    "errors",
    "non-2xx",
    "vs: ops/s, CPU/op",
  ];
  const rows = results.map(({ scenario, measurement: m }) => {
    if (m === undefined) return [scenario.name, "failed", ...header.slice(2).map(() => "")];
    const base = scenario.compareWith ? byName.get(scenario.compareWith) : undefined;
    const ratio = base
      ? `${pairedRatio(m, base).toFixed(2)}×, ${(m.cpuUsPerOp / base.cpuUsPerOp).toFixed(2)}× ${scenario.compareWith}`
      : "";
    return [
      scenario.name,
      fixed(m.perSecond, 0),
      `${fixed(m.slowestSlice, 0)}–${fixed(m.fastestSlice, 0)}`,
      fixed(m.p50Ms, 2),
      fixed(m.p99Ms, 2),
      fixed(m.cpuUsPerOp, 0),
      String(m.errors),
      String(m.non2xx),
      ratio,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const leftAligned = (i: number) => i === 0 || i === header.length - 1;
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (leftAligned(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  // GFM delimiter row: numbers right-aligned (`---:`).
  const rule = `|${widths.map((w, i) => (leftAligned(i) ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  const notes = results.flatMap(({ scenario, note, failure }) => [
    `- ${scenario.name} (issue ${scenario.issue}): ${scenario.summary}${note ? `. ${note}` : ""}`,
    ...(failure ? [`  - FAILED: ${failure}`] : []),
  ]);
  return [line(header), rule, ...rows.map(line), "", ...notes].join("\n");
}
