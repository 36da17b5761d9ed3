// The permission report, generated from src/authz/permissions.ts and the SDL's permission directives.
//   npm run permissions                 prints the table: Type.field → rule and scopes
//   npm run permissions -- --write      rewrites the generated section of docs/permissions.md
//   npm run permissions -- --check      exits 1 when docs/permissions.md is out of date (CI)
import "./exit-on-closed-pipe.mjs";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { permissionRows, permissionTable, withPermissionTable } from "../src/authz/permission-report.js";
import { composeSchema } from "../src/graphql/schema.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";

const docPath = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "permissions.md");
const mode = process.argv[2];

// The rules as `npm start` composes them: the core's map, and each module's map and directives.
// Composing runs the build-time guard: a field without a rule fails here before any output.
const { schema, permissions } = composeSchema({ modules: DEMO_MODULES });
const rows = permissionRows(schema, permissions.map);

if (mode === "--write" || mode === "--check") {
  const current = readFileSync(docPath, "utf8");
  const wanted = withPermissionTable(current, permissionTable(rows));
  if (mode === "--write") {
    if (wanted !== current) writeFileSync(docPath, wanted);
    console.log(wanted === current ? "docs/permissions.md is up to date" : "docs/permissions.md updated");
  } else if (wanted !== current) {
    console.error("docs/permissions.md is out of date: run `npm run permissions -- --write`");
    process.exit(1);
  } else {
    console.log("docs/permissions.md is up to date");
  }
} else if (mode === undefined) {
  const plain = (text: string) => text.replaceAll("`", "");
  const width = Math.max(...rows.map((r) => r.field.length));
  const ruleWidth = Math.max(...rows.map((r) => plain(r.rule).length));
  console.log(`${"FIELD".padEnd(width)}  ${"RULE".padEnd(ruleWidth)}  CHECKED  NULLABLE`);
  for (const row of rows) {
    console.log(
      `${row.field.padEnd(width)}  ${plain(row.rule).padEnd(ruleWidth)}  ${(row.checked ? "yes" : "no").padEnd(7)}  ${row.nullable ? "yes" : "no"}`,
    );
  }
} else {
  console.error("usage: npm run permissions [-- --write | --check]");
  process.exit(2);
}
