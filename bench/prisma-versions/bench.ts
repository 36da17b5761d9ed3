// Issue 17, goal 2, measured: the two hot user reads (a user by id, a 101-row page in id order)
// through Prisma 6.19 (the client the project generates and uses), Prisma 7.10 (whose client
// caches query plans) and the prepared statements the project serves them with now
// (src/users/user-reads.ts), on SQLite and PostgreSQL, in one process, in turns.
//
//   cd bench/prisma-versions && npm install && npm run bench [-- callsPerRound rounds warmupCalls]
//
// Each database is migrated by the project's own runner (src/db/migrate.ts: raw better-sqlite3 /
// pg, no Prisma CLI) and seeded with 150 users through Prisma 6.19; the Prisma 7 client then opens
// the same SQLite file / the same PostgreSQL database through its 7.10 adapter.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma as Prisma6 } from "../../src/db/generated/sqlite/index.js";
import { sqliteFilePath } from "../../src/db/migrate.js";
import { newId } from "../../src/ids.js";
import { createUserReads } from "../../src/users/user-reads.js";
import { type BenchDatabase, createBenchDatabase } from "../harness/bench-database.js";
import { seedUsers } from "../harness/seed.js";
import { PrismaClient as Postgres7, Prisma as Prisma7 } from "./generated/postgres/client.js";
import { PrismaClient as Sqlite7 } from "./generated/sqlite/client.js";

const perRound = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 7);
const warmup = Number(process.argv[4] ?? 300);

const PUBLIC = { id: true, email: true, displayName: true, role: true, createdAt: true } as const;
const PAGE = 101;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const versionOf = (file: string) =>
  (JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8")) as { version: string }).version;

type Read = () => Promise<unknown>;
interface Cell {
  provider: "sqlite" | "postgres";
  read: string;
  path: string;
  run: Read;
  samples: number[];
}

const PATHS = [
  "Prisma 6.19 model API",
  "Prisma 6.19 $queryRaw",
  "Prisma 7.10 model API",
  "Prisma 7.10 $queryRaw",
  "prepared statement (now)",
] as const;
const PREPARED = PATHS[4];

/** A row as every path must answer it, for the equality check before measuring. */
const normalize = (rows: unknown) =>
  JSON.stringify(
    (rows as Record<string, unknown>[]).map((r) => ({
      id: r.id,
      email: r.email,
      displayName: r.displayName,
      role: r.role,
      createdAt: new Date(r.createdAt as string | Date).toISOString(),
    })),
  );

const before = load();
const cells: Cell[] = [];
const closers: (() => Promise<void>)[] = [];
try {
  for (const provider of ["sqlite", "postgres"] as const) {
    const db: BenchDatabase = await createBenchDatabase(provider);
    // Prisma 6.19 (src/db/database.ts), migrated on open by src/db/migrate.ts.
    const database = await db.open();
    closers.push(async () => {
      await database.close();
      await db.drop();
    });
    const ids = await seedUsers(database.prisma, 150);
    const id = ids[42]!;
    const prisma6 = database.prisma;
    const reads = createUserReads(database.driver);
    // Prisma 7.10 on the same database, through its own 7.10 adapter.
    const prisma7 =
      provider === "sqlite"
        ? new Sqlite7({ adapter: new PrismaBetterSqlite3({ url: sqliteFilePath(db.url) }) })
        : (new Postgres7({
            adapter: new PrismaPg({ connectionString: db.url, max: 5 }),
          }) as unknown as Sqlite7);
    closers.unshift(() => prisma7.$disconnect());

    // Prisma 7 writes a row the way 6.19 and the prepared statements read it (timestamps included).
    const written = await prisma7.user.create({
      data: {
        id: newId(new Date()),
        email: "written-by-7@bench.example",
        passwordHash: "!",
        displayName: "7",
        createdAt: new Date(),
      },
      select: PUBLIC,
    });
    for (const [who, rows] of [
      ["prepared statement", await reads.byIds([written.id])],
      ["Prisma 6.19", [await prisma6.user.findUnique({ where: { id: written.id }, select: PUBLIC })]],
    ] as const) {
      if (normalize(rows) !== normalize([written]))
        throw new Error(`${provider}: ${who} reads a Prisma 7 row differently`);
    }
    await prisma7.user.delete({ where: { id: written.id } });

    const quote =
      provider === "sqlite"
        ? (s: string) => s.replace(/\bUser\b/g, "holdfast_User")
        : (s: string) => s.replace(/\b[a-z]+[A-Z]\w*/g, '"$&"').replace(/\bUser\b/g, 'holdfast."User"');
    const oneSql = quote("SELECT id, email, displayName, role, createdAt FROM User WHERE id = ");
    const pageSql = quote("SELECT id, email, displayName, role, createdAt FROM User ORDER BY id LIMIT ");
    const reads6and7: Record<string, Record<(typeof PATHS)[number], Read>> = {
      "one row by id": {
        "Prisma 6.19 model API": () =>
          prisma6.user.findUnique({ where: { id }, select: PUBLIC }).then((r) => [r]),
        "Prisma 6.19 $queryRaw": () => prisma6.$queryRaw(Prisma6.sql([oneSql, ""], id)),
        "Prisma 7.10 model API": () =>
          prisma7.user.findUnique({ where: { id }, select: PUBLIC }).then((r) => [r]),
        "Prisma 7.10 $queryRaw": () => prisma7.$queryRaw(Prisma7.sql([oneSql, ""], id)),
        [PREPARED]: () => reads.byIds([id]),
      },
      [`${PAGE} rows (list page)`]: {
        "Prisma 6.19 model API": () =>
          prisma6.user.findMany({ select: PUBLIC, orderBy: { id: "asc" }, take: PAGE }),
        "Prisma 6.19 $queryRaw": () => prisma6.$queryRaw(Prisma6.sql([pageSql, ""], PAGE)),
        "Prisma 7.10 model API": () =>
          prisma7.user.findMany({ select: PUBLIC, orderBy: { id: "asc" }, take: PAGE }),
        "Prisma 7.10 $queryRaw": () => prisma7.$queryRaw(Prisma7.sql([pageSql, ""], PAGE)),
        [PREPARED]: () => reads.page(PAGE, null),
      },
    };
    for (const [read, paths] of Object.entries(reads6and7)) {
      // Every path must answer exactly what the prepared statement answers.
      const expected = normalize(await paths[PREPARED]());
      for (const path of PATHS) {
        const got = normalize(await paths[path]());
        if (got !== expected)
          throw new Error(`${provider} ${read} ${path}: answer differs\n${got}\n${expected}`);
        cells.push({ provider, read, path, run: paths[path], samples: [] });
      }
    }
  }

  // Warm-up: every path compiles its query (and 7.x caches the plan) before anything is measured.
  for (const cell of cells) for (let i = 0; i < warmup; i++) await cell.run();
  // In turns: every round measures every cell once, so load from outside falls on all alike.
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`round ${r + 1}/${rounds}\r`);
    for (const cell of cells) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < perRound; i++) await cell.run();
      const used = process.cpuUsage(cpu);
      cell.samples.push((used.user + used.system) / perRound);
    }
  }
  process.stderr.write("\n");
} finally {
  for (const close of closers) await close();
}

const versions = [
  `Prisma 6 client ${versionOf("../../node_modules/@prisma/client/package.json")}`,
  `adapters ${versionOf("../../node_modules/@prisma/adapter-better-sqlite3/package.json")} / ${versionOf("../../node_modules/@prisma/adapter-pg/package.json")}`,
  `Prisma 7 client ${versionOf("./node_modules/@prisma/client/package.json")}`,
  `adapters ${versionOf("./node_modules/@prisma/adapter-better-sqlite3/package.json")} / ${versionOf("./node_modules/@prisma/adapter-pg/package.json")}`,
].join(", ");
console.log(
  `prisma-versions ${new Date().toISOString()} · ${versions} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
);
console.log(
  `${rounds} rounds × ${perRound} calls per cell after ${warmup} warm-up calls, in turns, in process · load average before: ${before}, after: ${load()}\n`,
);
console.log(
  "| provider | read | path | CPU µs/op (median) | vs prepared (median, range over rounds) | vs Prisma 6.19 model API (median) |",
);
console.log("|---|---|---|--:|--:|--:|");
/** Per-round ratios of a cell to another path on the same provider and read (same round, same noise). */
const ratiosTo = (cell: Cell, path: string) => {
  const base = cells.find((c) => c.provider === cell.provider && c.read === cell.read && c.path === path)!;
  return cell.samples.map((s, i) => s / base.samples[i]!);
};
for (const cell of cells) {
  const vsPrepared = ratiosTo(cell, PREPARED);
  const vs6 = median(ratiosTo(cell, PATHS[0]));
  const ratio =
    cell.path === PREPARED
      ? "1×"
      : `${median(vsPrepared).toFixed(1)}× (${Math.min(...vsPrepared).toFixed(1)}–${Math.max(...vsPrepared).toFixed(1)})`;
  console.log(
    `| ${cell.provider} | ${cell.read} | ${cell.path} | ${median(cell.samples).toFixed(0)} | ${ratio} | ${vs6.toFixed(2)}× |`,
  );
}
