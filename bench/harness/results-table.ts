import type { Measurement } from "./measurement.js";
import type { Scenario } from "./scenario.js";

export interface ScenarioResult {
  readonly scenario: Scenario;
  /** One per successful round, in order. */
  readonly rounds: readonly Measurement[];
  /** Why a round failed (setup refused, server did not start …): the row says so. */
  readonly failures: readonly string[];
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** The summary a row shows: medians across rounds, errors summed. */
function summarize(result: ScenarioResult) {
  const { rounds } = result;
  const perSecond = rounds.map((m) => m.perSecond);
  return {
    perSecond: median(perSecond),
    min: Math.min(...perSecond),
    max: Math.max(...perSecond),
    p50Ms: median(rounds.map((m) => m.p50Ms)),
    p99Ms: median(rounds.map((m) => m.p99Ms)),
    errors: rounds.reduce((sum, m) => sum + m.errors, 0),
    non2xx: rounds.reduce((sum, m) => sum + m.non2xx, 0),
  };
}

/** A Markdown table (readable in a terminal, pasted as is into bench/README.md). */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const summaries = new Map(
    results.filter((r) => r.rounds.length > 0).map((r) => [r.scenario.name, summarize(r)]),
  );
  const multiRound = results.some((r) => r.rounds.length > 1);
  const header = [
    "scenario",
    multiRound ? "ops/s (median; min–max)" : "ops/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "non-2xx",
    "vs",
  ];
  const rows = results.map((result) => {
    const s = summaries.get(result.scenario.name);
    if (s === undefined) return [result.scenario.name, "failed", "", "", "", "", ""];
    const base = result.scenario.compareWith ? summaries.get(result.scenario.compareWith) : undefined;
    const ratio = base ? `${(s.perSecond / base.perSecond).toFixed(2)}× ${result.scenario.compareWith}` : "";
    const ops = multiRound
      ? `${fixed(s.perSecond, 0)} (${fixed(s.min, 0)}–${fixed(s.max, 0)})`
      : fixed(s.perSecond, 0);
    return [
      result.scenario.name,
      ops,
      fixed(s.p50Ms, 2),
      fixed(s.p99Ms, 2),
      String(s.errors),
      String(s.non2xx),
      ratio,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  // GFM delimiter row: right-aligned numbers (`---:`), left-aligned names.
  const rule = `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  const notes = results.flatMap((r) => {
    const note = r.rounds.find((m) => m.note)?.note;
    return [
      `- ${r.scenario.name} (issue ${r.scenario.issue}): ${r.scenario.summary}${note ? `. ${note}` : ""}`,
    ];
  });
  return [line(header), rule, ...rows.map(line), "", ...notes].join("\n");
}
