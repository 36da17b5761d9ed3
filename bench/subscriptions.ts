// Subscriptions at 1,000 open connections on one instance: `npx tsx bench/subscriptions.ts`.
// The server is its own process (bench/server-process.ts, production mode, SQLite); the clients are
// raw WebSockets in this process. It reports, for BENCH_CONNECTIONS connections (default 1000):
// - fan-out latency: from just before a `createNote` is sent to each connection's receipt of the
//   event (p50/p99 over every delivery);
// - server memory per connection: the server's RSS growth from before the connections to after,
//   divided by their number (RSS: approximate, GC-dependent);
// - server CPU per delivered event: the server's CPU time during the fan-out rounds, divided by
//   the deliveries (each is one GraphQL execution with the permission map, for one viewer);
// - logout → close: from just before `logout` is sent to the close (4401) of that session's
//   connections, while every other connection stays open.
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import { createBenchDatabase } from "./harness/bench-database.js";
import { percentile } from "./harness/measurement.js";
import { startServer } from "./harness/server-handle.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1000);
const PER_SESSION = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const LOGOUTS = 5;

interface Client {
  readonly socket: WebSocket;
  readonly sessionIndex: number;
  closed: { code: number; reason: string; atMs: number } | null;
  onEvent: ((title: string, atMs: number) => void) | null;
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) * 1024;
}

async function gql(url: string, query: string, token?: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables: variables ?? {} }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function open(wsUrl: string, token: string, sessionIndex: number): Promise<Client> {
  const socket = new WebSocket(wsUrl, ["graphql-transport-ws"]);
  const client: Client = { socket, sessionIndex, closed: null, onEvent: null };
  socket.on("close", (code, reason) => {
    client.closed = { code, reason: reason.toString(), atMs: performance.now() };
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const acked = new Promise<void>((resolve) => {
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { data?: unknown } };
      if (message.type === "connection_ack") resolve();
      if (message.type === "next") {
        const title = (message.payload?.data as { noteEvents?: { note?: { title?: string } } })?.noteEvents
          ?.note?.title;
        if (title) client.onEvent?.(title, performance.now());
      }
    });
  });
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await acked;
  socket.send(
    JSON.stringify({
      id: "1",
      type: "subscribe",
      payload: { query: "subscription { noteEvents { kind noteId note { id title body } } }" },
    }),
  );
  return client;
}

async function main(): Promise<void> {
  const database = await createBenchDatabase("sqlite");
  const server = await startServer({
    DATABASE_URL: database.url,
    SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: String(CONNECTIONS + 10),
    SUBSCRIPTION_CONNECTIONS_PER_SESSION: String(PER_SESSION),
  });
  try {
    const url = server.graphqlUrl;
    const wsUrl = url.replace(/^http/, "ws");
    const sessions = Math.ceil(CONNECTIONS / PER_SESSION);
    const tokens: string[] = [];
    for (let i = 0; i < sessions; i++) {
      const data = await gql(
        url,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        undefined,
        {
          i: {
            email: `bench${i}-${Date.now()}@example.com`,
            password: "correct horse battery staple",
            displayName: `B${i}`,
            refreshTokenDelivery: "BODY",
          },
        },
      );
      tokens.push((data.register as { accessToken: string }).accessToken);
    }
    const writer = tokens[0]!;
    const rssBefore = rssBytes(server.pid);
    const clients: Client[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const session = Math.floor(i / PER_SESSION);
      clients.push(await open(wsUrl, tokens[session]!, session));
    }

    // Round 0 (unmeasured) proves every subscription runs; then the measured rounds.
    const latencies: number[] = [];
    const round = async (title: string, measure: boolean) => {
      let pending = clients.filter((c) => !c.closed).length;
      const done = new Promise<void>((resolve) => {
        const started = performance.now();
        for (const client of clients) {
          client.onEvent = (seen, atMs) => {
            if (seen !== title) return;
            client.onEvent = null;
            if (measure) latencies.push(atMs - started);
            pending -= 1;
            if (pending === 0) resolve();
          };
        }
      });
      await gql(url, `mutation { createNote(input: { title: "${title}", body: "b" }) { id } }`, writer);
      await done;
    };
    await round("warm-up", false);
    const rssAfter = rssBytes(server.pid);
    const cpuBefore = server.cpuSeconds();
    for (let r = 0; r < ROUNDS; r++) await round(`round-${r}`, true);
    const cpuSeconds = server.cpuSeconds() - cpuBefore;
    latencies.sort((a, b) => a - b);

    // Logout of one session among the CONNECTIONS: its PER_SESSION connections close, no other.
    const logoutMs: number[] = [];
    const loggedOut = new Set<number>();
    for (let k = 0; k < LOGOUTS; k++) {
      const session = 1 + ((k * 7) % (sessions - 1));
      loggedOut.add(session);
      const victims = clients.filter((c) => c.sessionIndex === session);
      const started = performance.now();
      await gql(url, "mutation { logout }", tokens[session]);
      while (victims.some((c) => !c.closed)) await new Promise((resolve) => setTimeout(resolve, 1));
      logoutMs.push(Math.max(...victims.map((c) => c.closed!.atMs - started)));
      if (victims.some((c) => c.closed!.code !== 4401)) throw new Error("a victim closed with another code");
    }
    const wrongly = clients.filter((c) => c.closed && !loggedOut.has(c.sessionIndex)).length;

    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(`| measure (${CONNECTIONS} subscriptions, one instance, SQLite) | value |`);
    console.log("| --- | ---: |");
    console.log(`| fan-out latency p50 (write sent → event received) | ${ms(percentile(latencies, 50))} |`);
    console.log(`| fan-out latency p99 | ${ms(percentile(latencies, 99))} |`);
    console.log(`| deliveries measured | ${latencies.length} (${ROUNDS} events × ${CONNECTIONS}) |`);
    console.log(
      `| server memory per connection (RSS growth / connections) | ${((rssAfter - rssBefore) / CONNECTIONS / 1024).toFixed(1)} KiB |`,
    );
    console.log(
      `| server CPU per delivered event | ${((cpuSeconds / latencies.length) * 1e6).toFixed(1)} µs |`,
    );
    console.log(
      `| logout → close of that session's ${PER_SESSION} connections (${LOGOUTS} logouts) | ${logoutMs.map(ms).join(", ")} |`,
    );
    console.log(`| other connections closed by those logouts | ${wrongly} |`);
    for (const client of clients) client.socket.terminate();
  } finally {
    await server.stop();
    await database.drop();
  }
}

await main();
