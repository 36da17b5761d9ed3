// Authors migrations without a shadow database, and checks that none is missing.
//   npm run db:diff -- <name>   writes prisma/<provider>/migrations/<timestamp>_<name>/migration.sql
//                               for both providers, from the last migrated datamodel to the current one
//   npm run db:diff -- --check  exits 1 when a provider's schema has changes no migration covers
// Each provider keeps a snapshot of the datamodel its newest migration reaches (schema.snapshot.prisma).
import "./exit-on-closed-pipe.mjs";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = process.argv[2];
if (!arg) {
  console.error("usage: npm run db:diff -- <migration_name> | --check");
  process.exit(2);
}
const check = arg === "--check";
if (!check && !/^[a-z0-9_]+$/.test(arg)) {
  console.error("migration name: lower-case letters, digits and underscores only");
  process.exit(2);
}

const prisma = join(root, "node_modules/.bin/prisma");
const providers = [
  { name: "sqlite", url: "file:./data/holdfast.db" },
  { name: "postgres", url: "postgresql://postgres@127.0.0.1:5432/postgres" },
];

let pending = false;
for (const { name, url } of providers) {
  const dir = join(root, "prisma", name);
  const schema = join(dir, "schema.prisma");
  const snapshot = join(dir, "migrations", "schema.snapshot.prisma");
  const from = existsSync(snapshot) ? ["--from-schema-datamodel", snapshot] : ["--from-empty"];
  // The CLI needs a driver adapter of the schema's provider even for a datamodel-only diff.
  const env = { ...process.env, DATABASE_URL: url };
  const sql = execFileSync(
    prisma,
    ["migrate", "diff", ...from, "--to-schema-datamodel", schema, "--script"],
    { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const empty = !/^(?!\s*--)\s*\S/m.test(sql.replace(/This is an empty migration\./, ""));
  if (empty) continue;
  if (check) {
    console.error(
      `${name}: prisma/models.prisma has changes that no migration covers; run npm run db:diff -- <name>`,
    );
    pending = true;
    continue;
  }
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const target = join(dir, "migrations", `${stamp}_${arg}`);
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, "migration.sql"), sql);
  copyFileSync(schema, snapshot);
  console.log(`wrote ${target}/migration.sql`);
}
if (pending) process.exit(1);
