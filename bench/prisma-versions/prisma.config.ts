// Prisma 7 CLI configuration for this bench only (the project itself stays on 6.19 and its own
// prisma.config.ts). `npm run generate` passes --schema for each provider. BENCH_PROVIDER and
// DATABASE_URL only matter for the CLI commands that talk to a database (`migrate …`), tried in
// README.md: 7.10's config has no `engine: "js"` / `adapter` any more, so those commands need
// the native schema engine, a download that fails here.
import { defineConfig } from "prisma/config";

const provider = process.env.BENCH_PROVIDER === "postgres" ? "postgres" : "sqlite";

export default defineConfig({
  schema: `prisma/${provider}/schema.prisma`,
  // The project's checked-in migrations, as `migrate deploy` / `migrate status` would read them.
  migrations: { path: `../../prisma/${provider}/migrations` },
  datasource: { url: process.env.DATABASE_URL ?? "file:./data/bench.db" },
});
