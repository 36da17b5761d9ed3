// The hot reads three ways, side by side on both providers: Prisma 6.19's model API (the query
// compiler runs for every call: 6.19 has no plan cache), Prisma's `$queryRaw` (no compiler, still
// Prisma's result mapping), and the prepared statement on the driver that Holdfast now uses
// (src/users/user-reads.ts).
//
//   npx tsx bench/read-paths.ts [callsPerRound=300] [rounds=5]
import { Prisma as PrismaSqlite } from "../src/db/generated/sqlite/index.js";
import { createUserReads } from "../src/users/user-reads.js";
import { createBenchDatabase } from "./harness/bench-database.js";
import { loadAverage } from "./harness/in-turns.js";
import { median } from "./harness/measurement.js";
import { seedUsers } from "./harness/seed.js";

const perRound = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 5);
const PUBLIC = { id: true, email: true, displayName: true, role: true, createdAt: true } as const;

const lines: string[] = [];
const before = loadAverage();
for (const provider of ["sqlite", "postgres"] as const) {
  const db = await createBenchDatabase(provider);
  const database = await db.open();
  try {
    const ids = await seedUsers(database.prisma, 150);
    const id = ids[42]!;
    const { prisma } = database;
    const reads = createUserReads(database.driver);
    const q =
      provider === "sqlite"
        ? (s: string) => s.replace(/\bUser\b/g, "holdfast_User")
        : (s: string) => s.replace(/\b[a-z]+[A-Z]\w*/g, '"$&"').replace(/\bUser\b/g, 'holdfast."User"');
    const oneRaw = q("SELECT id, email, displayName, role, createdAt FROM User WHERE id = ");
    const pageRaw = q("SELECT id, email, displayName, role, createdAt FROM User ORDER BY id LIMIT ");
    const paths = [
      {
        name: "one row by id",
        variants: {
          "Prisma model API": () => prisma.user.findUnique({ where: { id }, select: PUBLIC }),
          "Prisma $queryRaw": () => prisma.$queryRaw(PrismaSqlite.sql([oneRaw, ""], id)),
          "prepared statement": () => reads.byIds([id]),
        },
      },
      {
        name: "101 rows (list page)",
        variants: {
          "Prisma model API": () =>
            prisma.user.findMany({ select: PUBLIC, orderBy: { id: "asc" }, take: 101 }),
          "Prisma $queryRaw": () => prisma.$queryRaw(PrismaSqlite.sql([pageRaw, ""], 101)),
          "prepared statement": () => reads.page(101, null),
        },
      },
    ];
    for (const path of paths) {
      const samples: Record<string, number[]> = {};
      const entries = Object.entries(path.variants) as [string, () => Promise<unknown>][];
      for (const [, run] of entries) for (let i = 0; i < 50; i++) await run();
      for (let r = 0; r < rounds; r++) {
        for (const [name, run] of entries) {
          const cpu = process.cpuUsage();
          for (let i = 0; i < perRound; i++) await run();
          const used = process.cpuUsage(cpu);
          samples[name] = [...(samples[name] ?? []), (used.user + used.system) / perRound];
        }
      }
      const prepared = median(samples["prepared statement"]!);
      for (const [name] of entries) {
        const value = median(samples[name]!);
        lines.push(
          `| ${provider} | ${path.name} | ${name} | ${value.toFixed(0)} | ${(value / prepared).toFixed(1)}× |`,
        );
      }
    }
  } finally {
    await database.close();
    await db.drop();
  }
}
console.log(
  `read-paths ${new Date().toISOString()} · ${rounds} rounds × ${perRound} calls, in turns, in process · load average before: ${before}, after: ${loadAverage()}\n`,
);
console.log("| provider | read | path | CPU µs/call (median) | vs prepared |");
console.log("|---|---|---|--:|--:|");
for (const line of lines) console.log(line);
