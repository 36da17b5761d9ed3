// The storm of issue 25 and the fan-out attack of issue 27, on one instance each:
// `npm run bench -- storm` (or `npx tsx bench/storm.ts`). See bench/README.md, "Storm".
//
// Storm: BENCH_STORM_CONNECTIONS WebSocket subscriptions (5 per session) to `noteEvents`, then at
// once a note flood (BENCH_STORM_NOTES_PER_SECOND for BENCH_STORM_SECONDS, by an account nobody
// subscribes with) and, half-way, BENCH_STORM_LOGOUTS logouts fired together. Measured: /healthz
// latency (a probe every 20 ms, quiet before and during), each logout's answer time and the close
// of its sockets, server CPU per delivered event (CPU from the first note to the last delivery,
// over the deliveries), fan-out latency. Run twice, render cache on then off, each on its own
// server and database, so the ratios compare one run.
//
// Attack (issue 27, finding 3): one connection asks for 100 subscriptions each selecting the note
// owner's last 100 notes; the budget refuses the excess. HTTP `{ __typename }` latency p99 while
// the victim writes notes, against the same probe before.
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { createBenchDatabase } from "./harness/bench-database.js";
import { percentile } from "./harness/measurement.js";
import { type ServerHandle, startServer, stopAllServers } from "./harness/server-handle.js";
import {
  gql,
  NOTE_EVENTS,
  openClient,
  type ProbeSummary,
  probeLoop,
  registerMany,
  type StormClient,
  until,
} from "./storm-clients.js";

function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const CONNECTIONS = setting("BENCH_STORM_CONNECTIONS", 1000, 10, 5000);
const PER_SESSION = 5;
const SESSIONS = Math.ceil(CONNECTIONS / PER_SESSION);
const LOGOUTS = Math.min(setting("BENCH_STORM_LOGOUTS", 100, 0, 5000), SESSIONS - 1);
const NOTES_PER_SECOND = setting("BENCH_STORM_NOTES_PER_SECOND", 10, 1, 1000);
const SECONDS = setting("BENCH_STORM_SECONDS", 6, 1, 120);
const QUIET_SECONDS = 3;
const DRAIN_TIMEOUT_MS = 180_000;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a");
const healthz = (origin: string) => () => fetch(`${origin}/healthz`);
const sleep = (delayMs: number) => new Promise((resolve) => setTimeout(resolve, delayMs));

interface StormResult {
  readonly renderCache: string;
  readonly quiet: ProbeSummary;
  readonly storm: ProbeSummary;
  readonly logoutAnswerMs: number[];
  readonly logoutCloseMs: number[];
  readonly eventsAfterLogout: number;
  readonly deliveries: number;
  readonly cpuMicrosPerEvent: number;
  readonly fanOutP50: number;
  readonly fanOutP99: number;
  readonly drained: boolean;
  readonly leakedBodies: number;
  readonly otherCloses: number;
  readonly load: string;
}

async function storm(renderCache: "on" | "off"): Promise<StormResult> {
  const database = await createBenchDatabase("sqlite");
  const server = await startServer({
    DATABASE_URL: database.url,
    SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: String(CONNECTIONS + 10),
    SUBSCRIPTION_CONNECTIONS_PER_SESSION: String(PER_SESSION),
    SUBSCRIPTION_RENDER_CACHE: renderCache,
  });
  try {
    const url = server.graphqlUrl;
    const accounts = await registerMany(url, SESSIONS + 1);
    const writer = accounts[SESSIONS]!;
    const clients: StormClient[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const session = Math.floor(i / PER_SESSION);
      clients.push(
        await openClient(url.replace(/^http/, "ws"), accounts[session]!.token, session, [NOTE_EVENTS]),
      );
    }
    const write = (title: string) =>
      gql(url, `mutation { createNote(input: { title: "${title}", body: "b" }) { id } }`, writer.token);
    // Every subscription runs: one note reaches all of them.
    await write("warm-up");
    if (!(await until(() => clients.every((c) => c.received.has("warm-up")), 60_000))) {
      throw new Error("warm-up event did not reach every subscription");
    }
    const quietProbe = probeLoop(healthz(server.origin), 20);
    await sleep(QUIET_SECONDS * 1000);
    const quiet = await quietProbe.stop();

    const victims = new Set(Array.from({ length: LOGOUTS }, (_, k) => 1 + k));
    const sentAt = new Map<string, number>();
    const probe = probeLoop(healthz(server.origin), 20);
    const cpuBefore = server.cpuSeconds();
    const started = performance.now();
    const writes: Promise<unknown>[] = [];
    const total = NOTES_PER_SECOND * SECONDS;
    const logoutAnswerMs: number[] = [];
    const logoutAnsweredAt = new Map<number, number>();
    let logouts: Promise<unknown> = Promise.resolve();
    let logoutsStarted = Number.NaN;
    for (let k = 0; k < total; k++) {
      const due = started + (k * 1000) / NOTES_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (k === Math.floor(total / 2)) {
        logouts = Promise.all(
          [...victims].map(async (session) => {
            const sent = performance.now();
            await gql(url, "mutation { logout }", accounts[session]!.token);
            logoutAnsweredAt.set(session, performance.now());
            logoutAnswerMs.push(performance.now() - sent);
          }),
        );
        logoutsStarted = performance.now();
      }
      const title = `storm-${k}`;
      sentAt.set(title, performance.now());
      writes.push(write(title));
    }
    await Promise.all(writes);
    await logouts;
    const live = clients.filter((c) => !victims.has(c.session));
    const drained = await until(
      () => live.every((c) => c.closed !== null || c.received.size === total + 1),
      DRAIN_TIMEOUT_MS,
    );
    const cpuSeconds = server.cpuSeconds() - cpuBefore;
    const stormProbe = await probe.stop();
    const victimClients = clients.filter((c) => victims.has(c.session));
    await until(() => victimClients.every((c) => c.closed !== null), 10_000);

    let deliveries = 0;
    const fanOut: number[] = [];
    let eventsAfterLogout = 0;
    for (const client of clients) {
      for (const [title, at] of client.received) {
        const sent = sentAt.get(title);
        if (sent === undefined) continue;
        deliveries += 1;
        fanOut.push(at - sent);
        const answered = logoutAnsweredAt.get(client.session);
        if (answered !== undefined && at > answered) eventsAfterLogout += 1;
      }
    }
    fanOut.sort((a, b) => a - b);
    const logoutCloseMs = [...victims].map((session) =>
      Math.max(
        ...victimClients
          .filter((c) => c.session === session)
          .map((c) => (c.closed ? c.closed.atMs - logoutsStarted : Number.POSITIVE_INFINITY)),
      ),
    );
    const result: StormResult = {
      renderCache,
      quiet,
      storm: stormProbe,
      logoutAnswerMs: logoutAnswerMs.sort((a, b) => a - b),
      logoutCloseMs: logoutCloseMs.sort((a, b) => a - b),
      eventsAfterLogout,
      deliveries,
      cpuMicrosPerEvent: (cpuSeconds / deliveries) * 1e6,
      fanOutP50: percentile(fanOut, 50),
      fanOutP99: percentile(fanOut, 99),
      drained,
      leakedBodies: clients.reduce((sum, c) => sum + c.bodiesSeen, 0),
      otherCloses: live.filter((c) => c.closed !== null).length,
      load: load(),
    };
    for (const client of clients) client.socket.terminate();
    return result;
  } finally {
    await server.stop();
    await database.drop();
  }
}

const ATTACK_QUERY =
  "subscription { noteEvents { note { owner { notes(first: 100) { edges { node { id title body } } } } } } }";

async function attack() {
  const database = await createBenchDatabase("sqlite");
  const server: ServerHandle = await startServer({ DATABASE_URL: database.url });
  try {
    const url = server.graphqlUrl;
    const accounts = await registerMany(url, 2);
    const victim = accounts[0]!;
    const attacker = accounts[1]!;
    const write = (title: string) =>
      gql(url, `mutation { createNote(input: { title: "${title}", body: "b" }) { id } }`, victim.token);
    for (let i = 0; i < 100; i++) await write(`seed-${i}`);
    const client = await openClient(
      url.replace(/^http/, "ws"),
      attacker.token,
      0,
      Array.from({ length: 100 }, () => ATTACK_QUERY),
    );
    await write("warm-up");
    await until(
      () => client.running.size + [...client.refusals.values()].reduce((a, b) => a + b, 0) >= 100,
      30_000,
    );
    const running = client.running.size;
    const refused = client.refusals.get("subscription_budget_exceeded") ?? 0;
    const typename = () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
    const quietProbe = probeLoop(typename, 10, 2);
    await sleep(4000);
    const quiet = await quietProbe.stop();
    const probe = probeLoop(typename, 10, 2);
    const notes = 20;
    for (let i = 0; i < notes; i++) {
      await write(`attack-${i}`);
      await sleep(200);
    }
    await until(() => client.received.has(`attack-${notes - 1}`), 30_000);
    const during = await probe.stop();
    // CPU per note on its own, without the probes' requests in the same window.
    const bytesBefore = client.nextBytes;
    const cpuBefore = server.cpuSeconds();
    for (let i = 0; i < notes; i++) {
      await write(`alone-${i}`);
      await until(() => client.received.has(`alone-${i}`), 30_000);
    }
    const cpuMs = ((server.cpuSeconds() - cpuBefore) * 1000) / notes;
    client.socket.terminate();
    return {
      running,
      refused,
      quiet,
      during,
      cpuMsPerNote: cpuMs,
      bytesPerNote: (client.nextBytes - bytesBefore) / notes,
      notes,
      load: load(),
    };
  } finally {
    await server.stop();
    await database.drop();
  }
}

function printStorm(results: readonly StormResult[]): void {
  const [on, off] = results as [StormResult, StormResult];
  const row = (label: string, f: (r: StormResult) => string) => `| ${label} | ${f(on)} | ${f(off)} |`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(
    `\n### Storm: ${CONNECTIONS} subscriptions (${SESSIONS} sessions × ${PER_SESSION}), ${NOTES_PER_SECOND} notes/s for ${SECONDS} s, ${LOGOUTS} logouts at once, one instance, SQLite\n`,
  );
  console.log("| measure | render cache on | render cache off |");
  console.log("| --- | --: | --: |");
  console.log(row("/healthz quiet p50 / p99", (r) => `${ms(r.quiet.p50)} / ${ms(r.quiet.p99)}`));
  console.log(
    row(
      "/healthz during the storm p50 / p99 / max",
      (r) => `${ms(r.storm.p50)} / ${ms(r.storm.p99)} / ${ms(r.storm.max)}`,
    ),
  );
  console.log(row("/healthz probes (failed)", (r) => `${r.storm.count} (${r.storm.failures})`));
  console.log(
    row(
      "logout answered p50 / p99 / max",
      (r) =>
        `${ms(percentile(r.logoutAnswerMs, 50))} / ${ms(percentile(r.logoutAnswerMs, 99))} / ${ms(r.logoutAnswerMs.at(-1) ?? Number.NaN)}`,
    ),
  );
  console.log(
    row(
      "logout sent → its sockets closed, p99 / max",
      (r) => `${ms(percentile(r.logoutCloseMs, 99))} / ${ms(r.logoutCloseMs.at(-1) ?? Number.NaN)}`,
    ),
  );
  console.log(row("events received after the logout's answer", (r) => String(r.eventsAfterLogout)));
  console.log(row("deliveries (all arrived)", (r) => `${r.deliveries} (${r.drained ? "yes" : "NO"})`));
  console.log(row("server CPU per delivered event", (r) => `${r.cpuMicrosPerEvent.toFixed(1)} µs`));
  console.log(row("fan-out latency p50 / p99", (r) => `${ms(r.fanOutP50)} / ${ms(r.fanOutP99)}`));
  console.log(
    row("bodies shown to a non-owner / other sockets closed", (r) => `${r.leakedBodies} / ${r.otherCloses}`),
  );
  console.log(row("load average after", (r) => r.load));
  console.log(
    `\nCache on ÷ off: CPU per event ${ratio(on.cpuMicrosPerEvent, off.cpuMicrosPerEvent)}, ` +
      `/healthz p99 ${ratio(on.storm.p99, off.storm.p99)}, logout max ${ratio(on.logoutAnswerMs.at(-1)!, off.logoutAnswerMs.at(-1)!)}. ` +
      `Against issue 25's "before" (165 µs/event, /healthz up to 1,500–3,000 ms, logouts up to 10,400 ms), cache on: ` +
      `${ratio(on.cpuMicrosPerEvent, 165)} CPU/event, /healthz max ${ratio(on.storm.max, 1500)} of 1.5 s, logout max ${ratio(on.logoutAnswerMs.at(-1)!, 10_400)} of 10.4 s. ` +
      `Targets: /healthz p99 ≤ 100 ms ${on.storm.p99 <= 100 ? "met" : "MISSED"}, logout ≤ 1 s ${(on.logoutAnswerMs.at(-1) ?? Infinity) <= 1000 ? "met" : "MISSED"}, ≤ 50 µs/event ${on.cpuMicrosPerEvent <= 50 ? "met" : "MISSED"}.`,
  );
}

async function main(): Promise<void> {
  console.log(
    `Holdfast storm bench ${new Date().toISOString()} · ${availableParallelism()} × ${cpus()[0]?.model ?? "?"} · Node ${process.version}`,
  );
  console.log(`load average before: ${load()}`);
  const results = [await storm("on"), await storm("off")];
  printStorm(results);
  const a = await attack();
  console.log(`\n### Attack (issue 27, finding 3): one connection, 100 owner-notes subscriptions\n`);
  console.log("| measure | value |");
  console.log("| --- | --: |");
  console.log(
    `| subscriptions running / refused (subscription_budget_exceeded) | ${a.running} / ${a.refused} |`,
  );
  console.log(
    `| HTTP \`{ __typename }\` quiet p50 / p99 (${a.quiet.count} requests) | ${ms(a.quiet.p50)} / ${ms(a.quiet.p99)} |`,
  );
  console.log(
    `| the same while the victim writes ${a.notes} notes, p50 / p99 (${a.during.count}) | ${ms(a.during.p50)} / ${ms(a.during.p99)} |`,
  );
  console.log(`| p99 during ÷ quiet (target ≤ 2×) | ${(a.during.p99 / a.quiet.p99).toFixed(2)}× |`);
  console.log(
    `| server CPU per note written; bytes to the attacker per note | ${a.cpuMsPerNote.toFixed(1)} ms; ${Math.round(a.bytesPerNote)} |`,
  );
  console.log(`| load average after | ${a.load} |`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAllServers().finally(() => process.exit(130));
  });
}

try {
  await main();
} finally {
  await stopAllServers();
}
