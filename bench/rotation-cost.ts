// Refresh rotations, in process, on both providers: SQL round trips, statements and Redis commands
// per rotation (counted by instrumenting pg, better-sqlite3 and ioredis), beside CPU µs per rotation.
//
//   npx tsx bench/rotation-cost.ts [rotationsPerSlice=100] [slices=5]
//
// Part 1, side by side: SessionService.rotate with the rotation store (driver statements) against
// the same service on the Prisma model API (the code before the store), in turns, slice by slice.
// Part 2: the whole `refresh` mutation through the server (Fastify inject, Redis configured), as a
// client pays for it: rate limit, rotation, access-token signing, GraphQL; once as built and once
// with the session service's store swapped for the Prisma one (the same queries as before).
// CPU is this process's (process.cpuUsage: every thread); PostgreSQL's own CPU is not in it.
import { AuditLog } from "../src/auth/audit-log.js";
import { createRefreshTokenStore } from "../src/auth/sessions/create-refresh-token-store.js";
import type { RefreshTokenStore } from "../src/auth/sessions/refresh-token-store.js";
import { InProcessRevocationBus, RevocationSet } from "../src/auth/sessions/revocation.js";
import { SessionService } from "../src/auth/sessions/session-service.js";
import { byPassword } from "../src/auth/user-authentication.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config/config.js";
import type { Database } from "../src/db/database.js";
import { countDriverCalls, type DriverCounts } from "../test/support/driver-counters.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../test/support/shared-services.js";
import { REFRESH, registerUser, startTestServer, TEST_ENV } from "../test/support/test-server.js";
import { type BenchProvider, createBenchDatabase } from "./harness/bench-database.js";
import { loadAverage } from "./harness/in-turns.js";
import { PrismaRefreshTokenStore } from "./harness/prisma-refresh-token-store.js";
import { seedUsers } from "./harness/seed.js";

const perSlice = Number(process.argv[2] ?? 100);
const slices = Number(process.argv[3] ?? 5);
const CHAINS = 10;

interface Row {
  provider: BenchProvider;
  path: string;
  rotations: number;
  cpuUs: number;
  wallMs: number;
  counts: DriverCounts;
}

const rows: Row[] = [];
const client = { ip: "127.0.0.1", userAgent: "bench" };

const config = loadConfig({ ...TEST_ENV });

function sessionService(database: Database, refreshTokens: RefreshTokenStore): SessionService {
  const audit = new AuditLog(database.prisma, systemClock);
  return new SessionService({
    prisma: database.prisma,
    refreshTokens,
    clock: systemClock,
    audit,
    revocations: new RevocationSet(systemClock),
    bus: new InProcessRevocationBus(),
    config: {
      ...config.refresh,
      accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    },
  });
}

/** Runs perSlice rotations spread over CHAINS concurrent chains; adds CPU and wall time to `row`. */
async function measure(row: Row, tokens: string[], rotate: (token: string) => Promise<string>) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let left = perSlice;
  await Promise.all(
    tokens.map(async (_, chain) => {
      while (left > 0) {
        left -= 1;
        tokens[chain] = await rotate(tokens[chain]!);
      }
    }),
  );
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  row.rotations += perSlice;
  row.cpuUs += used.user + used.system;
  row.wallMs += wall;
}

const COUNTED_ROTATIONS = 20;

/**
 * Counts on one chain, one rotation at a time: on SQLite a statement that runs while another
 * request's transaction is open would otherwise not count as a round trip of its own.
 */
async function count(row: Row, tokens: string[], rotate: (token: string) => Promise<string>) {
  const counter = countDriverCalls();
  try {
    for (let i = 0; i < COUNTED_ROTATIONS; i++) tokens[0] = await rotate(tokens[0]!);
    const counts = counter.read();
    row.counts = { ...counts, log: [] };
  } finally {
    counter.restore();
  }
}

const emptyCounts = (): DriverCounts => ({ sqlRoundTrips: 0, sqlStatements: 0, redisCommands: 0, log: [] });

async function benchProvider(provider: BenchProvider): Promise<void> {
  const db = await createBenchDatabase(provider);
  const database = await db.open();
  const prefix = uniqueRedisPrefix();
  try {
    const [userId] = await seedUsers(database.prisma, 1);
    const variants = [
      { path: "rotate(), Prisma model API (before)", store: new PrismaRefreshTokenStore(database.prisma) },
      { path: "rotate(), rotation store (now)", store: createRefreshTokenStore(database.driver) },
    ].map((v) => ({
      ...v,
      service: sessionService(database, v.store),
      tokens: [] as string[],
      row: { provider, path: v.path, rotations: 0, cpuUs: 0, wallMs: 0, counts: emptyCounts() } as Row,
    }));
    for (const v of variants) {
      for (let i = 0; i < CHAINS; i++) {
        const started = await v.service.start({
          userId: userId!,
          scopes: ["profile:read"],
          jkt: null,
          client,
          authentication: byPassword(systemClock),
        });
        v.tokens.push(started.refreshToken);
      }
    }
    // The whole mutation twice: the server as built, and the same server with the rotation's data
    // access swapped back to the Prisma model API (the store is the only difference).
    const servers = [];
    for (const [path, store] of [
      [
        "`refresh` mutation, whole server, Prisma model API (before)",
        new PrismaRefreshTokenStore(database.prisma),
      ],
      ["`refresh` mutation, whole server, rotation store (now)", null],
    ] as const) {
      const server = await startTestServer(
        {
          REDIS_URL: SHARED_REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
          RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
          KEY_RELOAD_INTERVAL_SECONDS: "3600",
        },
        { database: { ...database, url: db.url } },
      );
      if (store)
        (
          server.server.services.sessions as unknown as { deps: { refreshTokens: unknown } }
        ).deps.refreshTokens = store;
      const tokens: string[] = [];
      for (let i = 0; i < CHAINS; i++) tokens.push((await registerUser(server)).refreshToken!);
      const rotate = async (token: string) => {
        const res = await server.gql<{ refresh: { refreshToken: string } }>(REFRESH, {
          variables: { token },
        });
        const next = res.body.data?.refresh.refreshToken;
        if (!next) throw new Error(`refresh failed: ${JSON.stringify(res.body.errors)}`);
        return next;
      };
      const row: Row = { provider, path, rotations: 0, cpuUs: 0, wallMs: 0, counts: emptyCounts() };
      servers.push({ server, tokens, rotate, row });
    }
    // Warm-up: JIT, prepared statements, pools.
    for (const v of variants) await measureWarm(v.tokens, (t) => rotateWith(v.service, t));
    for (const m of servers) await measureWarm(m.tokens, m.rotate);
    for (const v of variants) await count(v.row, v.tokens, (t) => rotateWith(v.service, t));
    for (const m of servers) await count(m.row, m.tokens, m.rotate);
    for (let s = 0; s < slices; s++) {
      for (const v of variants) await measure(v.row, v.tokens, (t) => rotateWith(v.service, t));
      for (const m of servers) await measure(m.row, m.tokens, m.rotate);
    }
    rows.push(...variants.map((v) => v.row), ...servers.map((m) => m.row));
    for (const m of servers) await m.server.close();
  } finally {
    await database.close();
    await db.drop();
    await clearRedisPrefix(prefix);
  }
}

async function rotateWith(service: SessionService, token: string): Promise<string> {
  return (await service.rotate({ refreshToken: token, jkt: null, client })).refreshToken;
}

async function measureWarm(tokens: string[], rotate: (token: string) => Promise<string>) {
  for (let i = 0; i < tokens.length; i++) tokens[i] = await rotate(tokens[i]!);
  for (let i = 0; i < tokens.length; i++) tokens[i] = await rotate(tokens[i]!);
}

const before = loadAverage();
for (const provider of ["sqlite", "postgres"] as const) await benchProvider(provider);
console.log(
  `rotation-cost ${new Date().toISOString()} · ${slices} × ${perSlice} rotations per row, ${CHAINS} chains, in turns · load average before: ${before}, after: ${loadAverage()}\n`,
);
console.log(
  "| provider | path | SQL round trips / rotation | SQL statements | Redis commands | CPU µs / rotation | rotations/s (10 chains) | CPU vs before |",
);
console.log("|---|---|--:|--:|--:|--:|--:|--:|");
for (const row of rows) {
  const per = (n: number) => (n / COUNTED_ROTATIONS).toFixed(2);
  const cpu = row.cpuUs / row.rotations;
  const kind = row.path.slice(0, 8);
  const baseline = rows.find(
    (r) => r.provider === row.provider && r.path.startsWith(kind) && r.path.includes("before"),
  );
  const ratio =
    baseline && baseline !== row ? `${(cpu / (baseline.cpuUs / baseline.rotations)).toFixed(2)}×` : "";
  console.log(
    `| ${row.provider} | ${row.path} | ${per(row.counts.sqlRoundTrips)} | ${per(row.counts.sqlStatements)} | ${per(row.counts.redisCommands)} | ${cpu.toFixed(0)} | ${((row.rotations / row.wallMs) * 1000).toFixed(0)} | ${ratio} |`,
  );
}
