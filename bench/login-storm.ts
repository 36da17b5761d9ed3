// A login storm: N concurrent logins with the default argon2 parameters, while `{ __typename }`
// probes ask the same server, one after another, whether it still answers. Reports the server's
// event-loop delay (monitorEventLoopDelay, inside the server process) and the probes' latency.
//
//   npx tsx bench/login-storm.ts [logins=50] [rounds=2]
//
// Side by side, in turns: ARGON2_MAX_CONCURRENT=4 (as many hashing threads as libuv's pool, where
// hashes ran before the bound) against the default bound (cores - 1, at least 1); both on niced
// worker threads (src/auth/passwords.ts). Each variant is its own server
// process on its own SQLite file; users are seeded with a real argon2id hash of the default cost.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Algorithm, hash } from "@node-rs/argon2";
import { openDatabase } from "../src/db/database.js";
import { newId } from "../src/ids.js";
import { loadAverage } from "./harness/in-turns.js";
import { percentile } from "./harness/measurement.js";

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

const LOGINS = Number(process.argv[2] ?? 50);
const ROUNDS = Number(process.argv[3] ?? 2);
const PASSWORD = "correct horse battery staple";
const SERVER = fileURLToPath(new URL("./storm-server-process.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LOGIN = `mutation L($input: LoginInput!) { login(input: $input) { accessToken } }`;

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
  ask(message: string): Promise<Record<string, number>>;
  dir: string;
}

async function startServer(name: string, env: Record<string, string>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-storm-"));
  const url = `file:${join(dir, "storm.db")}`;
  const db = await openDatabase({ url, provider: "sqlite", poolSize: 1, autoMigrate: true });
  // The default OWASP parameters the server uses (config.ts defaults): 19 MiB, 2 passes.
  const passwordHash = await hash(PASSWORD, {
    algorithm: 2 as Algorithm.Argon2id,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  });
  const now = new Date();
  await db.prisma.user.createMany({
    data: Array.from({ length: LOGINS }, (_, i) => ({
      id: newId(now),
      email: `storm${i}@bench.example`,
      passwordHash,
      displayName: `Storm ${i}`,
      createdAt: now,
    })),
  });
  await db.close();
  const child = spawn(process.execPath, ["--import", "tsx", SERVER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      DATABASE_URL: url,
      HOST: "127.0.0.1",
      PORT: "0",
      PUBLIC_URL: "http://127.0.0.1",
      KEY_PUBLISH_DELAY_SECONDS: "0",
      // One client address sends every login: the per-IP limits must not be what is measured.
      RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "1000000",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [ready] = (await once(child, "message")) as [{ port: number }];
  const ask = async (message: string) => {
    const reply = once(child, "message");
    child.send(message);
    return ((await reply) as [Record<string, number>])[0];
  };
  return { name, child, url: `http://127.0.0.1:${ready.port}/graphql`, ask, dir };
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}) {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  return {
    status: response.status,
    ok: response.status === 200 && !body.errors,
    ms: performance.now() - started,
  };
}

interface Result {
  ok: number;
  busy: number;
  other: number;
  stormMs: number;
  loginMs: number[];
  probeMs: number[];
  loop: { p50: number; p99: number; max: number }[];
}

async function storm(server: Server, result: Result): Promise<void> {
  await server.ask("reset");
  let storming = true;
  const probes = (async () => {
    while (storming) {
      const probe = await post(server.url, "{ __typename }");
      if (probe.ok) result.probeMs.push(probe.ms);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const started = performance.now();
  const logins = await Promise.all(
    Array.from({ length: LOGINS }, (_, i) =>
      post(server.url, LOGIN, { input: { email: `storm${i}@bench.example`, password: PASSWORD } }),
    ),
  );
  result.stormMs += performance.now() - started;
  storming = false;
  await probes;
  for (const login of logins) {
    if (login.ok) {
      result.ok += 1;
      result.loginMs.push(login.ms);
    } else if (login.status === 503) result.busy += 1;
    else result.other += 1;
  }
  result.loop.push((await server.ask("stats")) as Result["loop"][number]);
}

const variants = [
  { name: "4 hashing threads (as many as libuv's pool)", env: { ARGON2_MAX_CONCURRENT: "4" } },
  { name: `cores − 1 = ${Math.max(1, availableParallelism() - 1)} hashing thread(s) (the default)`, env: {} },
];
const before = loadAverage();
const servers = await Promise.all(variants.map((v) => startServer(v.name, v.env)));
const results = servers.map(
  (): Result => ({ ok: 0, busy: 0, other: 0, stormMs: 0, loginMs: [], probeMs: [], loop: [] }),
);
try {
  // Warm-up: one login each (JIT, the first argon2 allocation, prepared statements).
  for (const s of servers)
    await post(s.url, LOGIN, { input: { email: "storm0@bench.example", password: PASSWORD } });
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, s] of servers.entries()) await storm(s, results[i]!);
  }
} finally {
  for (const s of servers) {
    s.child.kill("SIGTERM");
    await once(s.child, "exit");
    rmSync(s.dir, { recursive: true, force: true });
  }
}
console.log(
  `login-storm ${new Date().toISOString()} · ${LOGINS} concurrent logins × ${ROUNDS} rounds per variant, in turns · ${availableParallelism()} cores · load average before: ${before}, after: ${loadAverage()}\n`,
);
console.log(
  "| variant | logins ok | 503 busy | other | storm s | login p50 / p99 ms | event-loop delay p50 / p99 / max ms | `{ __typename }` probes | probe p50 / p99 / max ms |",
);
console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
for (const [i, r] of results.entries()) {
  const loop = {
    p50: Math.max(...r.loop.map((l) => l.p50)),
    p99: Math.max(...r.loop.map((l) => l.p99)),
    max: Math.max(...r.loop.map((l) => l.max)),
  };
  console.log(
    `| ${variants[i]!.name} | ${r.ok} | ${r.busy} | ${r.other} | ${(r.stormMs / ROUNDS / 1000).toFixed(2)} | ${percentile(sorted(r.loginMs), 50).toFixed(0)} / ${percentile(sorted(r.loginMs), 99).toFixed(0)} | ${loop.p50} / ${loop.p99} / ${loop.max} | ${r.probeMs.length} | ${percentile(sorted(r.probeMs), 50).toFixed(1)} / ${percentile(sorted(r.probeMs), 99).toFixed(1)} / ${Math.max(...r.probeMs).toFixed(1)} |`,
  );
}
console.log("\n(event-loop delay: the worst round's percentile; probes: every probe of every round)");
