// Prisma CLI configuration. Together with the generator settings in prisma/*/schema.prisma
// (engineType "client", previewFeatures queryCompiler + driverAdapters) this keeps every CLI
// command offline: the JavaScript engine talks to the database through a driver adapter, so no
// schema or query engine binary is ever downloaded.
import { defineConfig } from "prisma/config";

// The CLI does not load .env when this file exists; the datasource urls need *a* value.
process.env.SQLITE_SCHEMA_URL ??= "file:./data/holdfast.db";
process.env.POSTGRES_SCHEMA_URL ??= "postgresql://localhost:5432/holdfast";

const databaseUrl = process.env.DATABASE_URL ?? "file:./data/holdfast.db";
const isPostgres = /^postgres(ql)?:/.test(databaseUrl);

export default defineConfig({
  schema: isPostgres ? "prisma/postgres/schema.prisma" : "prisma/sqlite/schema.prisma",
  engine: "js",
  experimental: { adapter: true },
  async adapter() {
    if (isPostgres) {
      const pg = await import("pg");
      const { PrismaPg } = await import("@prisma/adapter-pg");
      // The pg adapter cannot deserialize the catalog types `name` (19) and `"char"` (18) that
      // migrate reads (prisma/orm#27403); reading them as text is enough.
      const types = {
        getTypeParser: (oid: number, format?: "text" | "binary") =>
          oid === 18 || oid === 19
            ? (value: string) => value
            : pg.default.types.getTypeParser(oid, format as "text"),
      };
      // allowExitOnIdle: otherwise the CLI waits for the idle pool before exiting. search_path:
      // Holdfast's tables and its _prisma_migrations live in schema `holdfast` (src/db/migrate.ts);
      // the CLI finds _prisma_migrations by search_path, so `prisma migrate status` reads Holdfast's
      // bookkeeping, not an application's in `public`.
      return new PrismaPg({
        connectionString: databaseUrl,
        allowExitOnIdle: true,
        types,
        options: "-c search_path=holdfast",
      });
    }
    const { mkdirSync } = await import("node:fs");
    const { dirname } = await import("node:path");
    const { PrismaBetterSQLite3 } = await import("@prisma/adapter-better-sqlite3");
    // The CLI opens the file even for a datamodel-only diff: make sure its folder exists (fresh clone).
    const file = databaseUrl.replace(/^file:/, "");
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    return new PrismaBetterSQLite3({ url: file });
  },
});
