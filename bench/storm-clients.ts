// The storm's clients (bench/storm.ts): raw graphql-transport-ws sockets, HTTP helpers and probes.
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { percentile } from "./harness/measurement.js";

export const NOTE_EVENTS = "subscription { noteEvents { kind noteId note { id title body } } }";

export interface StormClient {
  readonly socket: WebSocket;
  readonly session: number;
  closed: { code: number; atMs: number } | null;
  /** Titles received, with the time each arrived. */
  readonly received: Map<string, number>;
  /** `next` messages whose note body was not null: the writer is nobody's subscriber, so a leak. */
  bodiesSeen: number;
  /** Arrival time of the last `next` message. */
  lastEventMs: number;
  /** `error` messages per reason (budget refusals in the attack). */
  readonly refusals: Map<string, number>;
  /** Subscription ids that received at least one `next`, and the bytes of every `next`. */
  readonly running: Set<string>;
  nextBytes: number;
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  token?: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables: variables ?? {} }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

let registered = 0;

/** A fresh account with one session (the register answer's). */
export async function register(url: string): Promise<{ token: string; userId: string }> {
  registered += 1;
  const data = await gql<{ register: { accessToken: string; user: { id: string } } }>(
    url,
    "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
    undefined,
    {
      i: {
        email: `storm${registered}-${process.pid}@bench.example`,
        password: "correct horse battery staple",
        displayName: `S${registered}`,
        refreshTokenDelivery: "BODY",
      },
    },
  );
  return { token: data.register.accessToken, userId: data.register.user.id };
}

/** `count` accounts, a few registrations at a time (setup, never measured). */
export async function registerMany(url: string, count: number) {
  const accounts: { token: string; userId: string }[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Math.min(8, count - i);
    accounts.push(...(await Promise.all(Array.from({ length: batch }, () => register(url)))));
  }
  return accounts;
}

/** Opens a connection, authenticates it, and sends `queries` as subscriptions 1, 2, …. */
export async function openClient(
  wsUrl: string,
  token: string,
  session: number,
  queries: readonly string[],
): Promise<StormClient> {
  const socket = new WebSocket(wsUrl, ["graphql-transport-ws"]);
  const client: StormClient = {
    socket,
    session,
    closed: null,
    received: new Map(),
    bodiesSeen: 0,
    lastEventMs: 0,
    refusals: new Map(),
    running: new Set(),
    nextBytes: 0,
  };
  socket.on("close", (code) => {
    client.closed = { code, atMs: performance.now() };
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const acked = new Promise<void>((resolve) => {
    socket.on("message", (data) => {
      const now = performance.now();
      const text = data.toString();
      const message = JSON.parse(text) as { type: string; id?: string; payload?: unknown };
      if (message.type === "connection_ack") resolve();
      else if (message.type === "next") {
        client.lastEventMs = now;
        client.nextBytes += text.length;
        if (message.id) client.running.add(message.id);
        const note = (
          message.payload as { data?: { noteEvents?: { note?: { title?: string; body?: unknown } } } }
        )?.data?.noteEvents?.note;
        if (note?.title && !client.received.has(note.title)) client.received.set(note.title, now);
        if (note && note.body !== null && note.body !== undefined) client.bodiesSeen += 1;
      } else if (message.type === "error") {
        const reason =
          (message.payload as { extensions?: { reason?: string } }[])?.[0]?.extensions?.reason ?? "other";
        client.refusals.set(reason, (client.refusals.get(reason) ?? 0) + 1);
      }
    });
  });
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await acked;
  queries.forEach((query, i) => {
    socket.send(JSON.stringify({ id: String(i + 1), type: "subscribe", payload: { query } }));
  });
  return client;
}

/**
 * Latency of one request after another (a probe, as a load balancer's or Kubernetes' would be),
 * `gapMs` apart, until `stop()`; the answers must be 2xx.
 */
export function probeLoop(send: () => Promise<Response>, gapMs: number, workers = 1) {
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await send();
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - started);
        else failures += 1;
      } catch {
        failures += 1;
      }
      // Pacing, not synchronisation: a probe every gapMs at most.
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, loop));
  return {
    async stop() {
      running = false;
      await done;
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        count: sorted.length,
        failures,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? Number.NaN,
      };
    },
  };
}

export type ProbeSummary = Awaited<ReturnType<ReturnType<typeof probeLoop>["stop"]>>;

/** Resolves when `condition` holds (polled), or after `timeoutMs` with false. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
