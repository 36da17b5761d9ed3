// Scale-out bench (issue 9): `npx tsx bench/scale-out.ts`.
// - refresh rotations per second on PostgreSQL with 1, 10 and 50 concurrent sessions (one instance);
// - `{ me { id } }` throughput of two instances against one, on one PostgreSQL database and one Redis.
// Production configuration (PostgreSQL + Redis: the rate limiter and revocation bus are live). Every
// row gets its own database and server process(es); rows are measured in turns, slice by slice, as
// in bench/run.ts, so the noise of a shared machine falls on every row alike. The load generator
// runs in this process, on the same cores as the servers: on a 2-core machine a second instance
// mostly competes with the first for CPU, and the ratio says so.
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { clearRedisPrefix, SHARED_REDIS_URL } from "../test/support/shared-services.js";
import { type BenchDatabase, createBenchDatabase } from "./harness/bench-database.js";
import { benchOptions } from "./harness/bench-options.js";
import { type BenchUser, gql, registerUser } from "./harness/graphql-client.js";
import { httpLoad } from "./harness/http-load.js";
import { type Entry, loadAverage, measureInTurns, printResults, reasonOf } from "./harness/in-turns.js";
import type { LoadDriver } from "./harness/load-driver.js";
import { rotationLoad } from "./harness/rotation-load.js";
import type { Scenario, ScenarioContext } from "./harness/scenario.js";
import { type ServerHandle, startServer, stopAllServers } from "./harness/server-handle.js";

const ME = "{ me { id } }";

/** Every instance of a row shares the issuer (as behind a load balancer) and a Redis key prefix. */
const prefixes: string[] = [];
function clusterEnv(): Record<string, string> {
  const prefix = `holdfast-bench-${randomBytes(4).toString("hex")}:`;
  prefixes.push(prefix);
  return {
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    JWT_ISSUER: "http://holdfast.bench",
    DATABASE_POOL_SIZE: "10",
  };
}

/** Sums the slices of drivers run side by side (one per instance). */
function together(drivers: readonly LoadDriver[]): LoadDriver {
  return {
    async run(seconds) {
      const samples = await Promise.all(drivers.map((d) => d.run(seconds)));
      return {
        ok: samples.reduce((n, s) => n + s.ok, 0),
        latenciesMs: samples.flatMap((s) => s.latenciesMs),
        errors: samples.reduce((n, s) => n + s.errors, 0),
        non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
        seconds: Math.max(...samples.map((s) => s.seconds)),
      };
    },
  };
}

async function rotations(context: ScenarioContext, sessions: number) {
  const url = context.servers[0]!.graphqlUrl;
  const users: BenchUser[] = [];
  for (let i = 0; i < sessions; i++) users.push(await registerUser(url));
  return {
    driver: rotationLoad(
      url,
      users.map((u) => u.refreshToken),
    ),
    note: `${sessions} session(s), each rotated in a loop by its own client`,
  };
}

/** Rotations of `sessions` sessions, half of the clients on each of two instances (issue 17). */
async function rotationsAcross(context: ScenarioContext, sessions: number) {
  const { servers } = context;
  const tokens: string[][] = servers.map(() => []);
  for (let i = 0; i < sessions; i++)
    tokens[i % servers.length]!.push((await registerUser(servers[0]!.graphqlUrl)).refreshToken);
  return {
    driver: together(servers.map((server, i) => rotationLoad(server.graphqlUrl, tokens[i]!))),
    note: `${sessions} sessions, ${Math.ceil(sessions / servers.length)} rotated on each instance`,
  };
}

/** `{ me { id } }` with one user's token, the same total connections spread over every instance. */
async function meAcross(context: ScenarioContext) {
  const { servers, options } = context;
  const user = await registerUser(servers[0]!.graphqlUrl);
  // Signed on the first instance, verified on each: the check that the instances share keys.
  for (const server of servers) {
    const check = await gql<{ me: { id: string } | null }>(server.graphqlUrl, ME, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    if (check.data?.me?.id !== user.userId)
      throw new Error(`me on ${server.origin}: ${JSON.stringify(check)}`);
  }
  const perServer = Math.max(1, Math.round(options.connections / servers.length));
  const expected = `{"data":{"me":{"id":"${user.userId}"}}}`;
  return {
    driver: together(
      servers.map((server: ServerHandle) =>
        httpLoad({
          url: server.graphqlUrl,
          connections: perServer,
          query: ME,
          headers: { authorization: `Bearer ${user.accessToken}` },
          // Apollo ends the JSON with a newline.
          expectBody: (body) => body.trimEnd() === expected,
        }),
      ),
    ),
    note: `${perServer * servers.length} connections in all, ${perServer} per instance`,
  };
}

const scenarios: readonly Scenario[] = [
  {
    name: "pg-refresh-1",
    issue: 9,
    summary: "refresh rotations, 1 session (sequential), PostgreSQL + Redis, one instance",
    database: "postgres",
    env: clusterEnv(),
    prepare: (context) => rotations(context, 1),
  },
  {
    name: "pg-refresh-10",
    issue: 9,
    summary: "refresh rotations, 10 concurrent sessions, PostgreSQL + Redis, one instance",
    database: "postgres",
    env: clusterEnv(),
    compareWith: "pg-refresh-1",
    prepare: (context) => rotations(context, 10),
  },
  {
    name: "pg-refresh-50",
    issue: 9,
    summary: "refresh rotations, 50 concurrent sessions, PostgreSQL + Redis, one instance",
    database: "postgres",
    env: clusterEnv(),
    compareWith: "pg-refresh-1",
    prepare: (context) => rotations(context, 50),
  },
  {
    name: "pg-refresh-10-2-instances",
    issue: 17,
    summary: "refresh rotations, 10 concurrent sessions spread over two instances, PostgreSQL + Redis",
    database: "postgres",
    env: clusterEnv(),
    instances: 2,
    compareWith: "pg-refresh-10",
    prepare: (context) => rotationsAcross(context, 10),
  },
  {
    name: "pg-me-1-instance",
    issue: 9,
    summary: "`{ me { id } }` with a Bearer token, PostgreSQL + Redis, one instance",
    database: "postgres",
    env: clusterEnv(),
    prepare: meAcross,
  },
  {
    name: "pg-me-2-instances",
    issue: 9,
    summary: "the same load spread over two instances sharing the database and Redis",
    database: "postgres",
    env: clusterEnv(),
    instances: 2,
    compareWith: "pg-me-1-instance",
    prepare: meAcross,
  },
];

async function main(): Promise<void> {
  // 5 s per row. A longer warm-up than bench/run.ts: each of two instances sees half the requests,
  // and an instance needs several thousand before `me` settles (V8 tiers, pool connections, the
  // backends' caches: ~1.6 ms server CPU per request cold, ~0.65 ms warm here), so a short warm-up
  // bills the two-instance row for work a long-running deployment never repeats.
  const options = benchOptions({ BENCH_SECONDS: "5", BENCH_WARMUP_SECONDS: "10", ...process.env });
  const slices = Math.ceil(options.seconds / options.sliceSeconds);
  console.log(
    `Holdfast scale-out bench ${new Date().toISOString()} · ${availableParallelism()} × ${cpus()[0]?.model ?? "CPU"} · Node ${process.version}`,
  );
  console.log(
    `${slices} × ${options.sliceSeconds} s per row, in turns, after ${options.warmupSeconds} s warm-up; ` +
      `${options.connections} connections for me; load average before: ${loadAverage()}`,
  );
  const entries: Entry[] = scenarios.map((scenario) => ({ scenario, samples: [] }));
  const databases: BenchDatabase[] = [];
  try {
    for (const entry of entries) {
      process.stderr.write(`prepare ${entry.scenario.name} … `);
      try {
        const database = await createBenchDatabase("postgres");
        databases.push(database);
        // Migrates the throwaway database (the servers never migrate PostgreSQL themselves).
        await (await database.open()).close();
        const env = { ...entry.scenario.env, DATABASE_URL: database.url };
        const servers: ServerHandle[] = [];
        for (let i = 0; i < (entry.scenario.instances ?? 1); i++) servers.push(await startServer(env));
        entry.servers = servers;
        const prepared = await entry.scenario.prepare({ servers, options });
        entry.driver = prepared.driver;
        if (prepared.note !== undefined) entry.note = prepared.note;
        process.stderr.write("ready\n");
      } catch (error) {
        entry.failure = reasonOf(error);
        process.stderr.write(`failed: ${entry.failure}\n`);
      }
    }
    await measureInTurns(entries, options, slices);
  } finally {
    await stopAllServers();
    await Promise.all(databases.map((d) => d.drop()));
    await Promise.all(prefixes.map((prefix) => clearRedisPrefix(prefix)));
  }
  printResults(entries);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAllServers().finally(() => process.exit(130));
  });
}

await main();
