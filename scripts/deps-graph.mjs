// The dependency graph of src/, one node per folder (and per top-level module), drawn by
// dependency-cruiser from the code itself, so the picture in docs/architecture.md cannot go stale.
//   npm run deps:graph              rewrites docs/architecture.md
//   npm run deps:graph -- --check   exits 1 when docs/architecture.md is out of date (CI)
import "./exit-on-closed-pipe.mjs";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const docPath = join(root, "docs", "architecture.md");
const check = process.argv.includes("--check");

const mermaid = execFileSync(
  join(root, "node_modules", ".bin", "depcruise"),
  [
    "src",
    "--config",
    ".dependency-cruiser.cjs",
    "--include-only",
    "^src/",
    "--collapse",
    "^src/[^/]+",
    "--output-type",
    "mermaid",
  ],
  { cwd: root, encoding: "utf8" },
);
// Edges in a stable order: the drawing changes only when an arrow does.
const lines = mermaid.trimEnd().split("\n");
const edges = lines.filter((l) => l.includes("-->")).sort();
const rest = lines.filter((l) => !l.includes("-->"));
const graph = [...rest, ...edges].join("\n");

const BEGIN = "<!-- BEGIN GENERATED: scripts/deps-graph.mjs -->";
const END = "<!-- END GENERATED -->";
const generated = `${BEGIN}\n\`\`\`mermaid\n${graph}\n\`\`\`\n${END}`;
const current = readFileSync(docPath, "utf8");
const start = current.indexOf(BEGIN);
const stop = current.indexOf(END);
if (start < 0 || stop < start) {
  console.error(`${docPath} has no generated section (${BEGIN} … ${END})`);
  process.exit(1);
}
const wanted = current.slice(0, start) + generated + current.slice(stop + END.length);
if (wanted === current) {
  console.log("docs/architecture.md is up to date");
} else if (check) {
  console.error("docs/architecture.md is out of date: run `npm run deps:graph`");
  process.exit(1);
} else {
  writeFileSync(docPath, wanted);
  console.log("docs/architecture.md updated");
}
