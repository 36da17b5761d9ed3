import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach } from "vitest";
import { type Config, loadConfig } from "../../../src/config/config.js";
import type { Database } from "../../../src/db/database.js";
import { createServer, type HoldfastServer } from "../../../src/server/create-server.js";
import { DEMO_MODULES } from "../../support/demo-modules.js";
import { FakeClock } from "../../support/fake-clock.js";
import { createTestDatabase } from "../../support/test-db.js";
import { LOGIN, REFRESH, REGISTER, TEST_ENV, TEST_PASSWORD } from "../../support/test-server.js";

/**
 * How a test reaches the server. `inject` runs the whole Fastify stack in-process and can claim
 * any client address (`remoteAddress`); `http` goes over a real loopback socket with fetch, and
 * claims an address through X-Forwarded-For from a trusted proxy (TRUST_PROXY=127.0.0.1).
 */
export type Transport = "inject" | "http";
export const TRANSPORTS: Transport[] = ["inject", "http"];

export interface HttpAnswer<TBody = GraphQLBody> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: TBody;
}

export interface GraphQLBody<TData = Record<string, unknown>> {
  data?: TData | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface SendOptions {
  method?: "GET" | "POST" | "OPTIONS";
  /** Path and query; defaults to /graphql. */
  path?: string;
  headers?: Record<string, string>;
  /** The raw body; an object is sent as JSON. */
  body?: unknown;
  /** The client address the server should see. */
  ip?: string;
}

export interface GqlOptions {
  variables?: Record<string, unknown>;
  token?: string;
  headers?: Record<string, string>;
  ip?: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Harness {
  readonly transport: Transport;
  readonly server: HoldfastServer;
  readonly config: Config;
  readonly clock: FakeClock;
  readonly database: Database;
  /** Every log line the server wrote, parsed, in order. */
  readonly logs: LogLine[];
  /** Every log line as written (to search for secrets). */
  readonly rawLogs: string[];
  send<TBody = GraphQLBody>(options: SendOptions): Promise<HttpAnswer<TBody>>;
  gql<TData = Record<string, unknown>>(
    query: string,
    options?: GqlOptions,
  ): Promise<HttpAnswer<GraphQLBody<TData>>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Runs before the first request: tests add routes here (Fastify takes none after ready). */
  beforeReady?: (server: HoldfastServer) => void | Promise<void>;
}

export async function startHarness(transport: Transport, options: HarnessOptions = {}): Promise<Harness> {
  const clock = new FakeClock(new Date());
  const database = await createTestDatabase();
  const env = { ...TEST_ENV, ...(transport === "http" ? { TRUST_PROXY: "127.0.0.1" } : {}), ...options.env };
  const config = loadConfig({ ...env, DATABASE_URL: database.url });
  const rawLogs: string[] = [];
  const logs: LogLine[] = [];
  const logger = pino(
    { level: "info" },
    {
      write(line: string) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const server = await createServer({ config, clock, database, logger, modules: DEMO_MODULES });
  await options.beforeReady?.(server);
  let base: string | null = null;
  if (transport === "http") {
    await server.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  }

  async function send<TBody>(opts: SendOptions): Promise<HttpAnswer<TBody>> {
    const method = opts.method ?? "POST";
    const headers: Record<string, string> = { ...opts.headers };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    if (base === null) {
      const res = await server.app.inject({
        method,
        url: opts.path ?? "/graphql",
        headers,
        ...(payload !== undefined ? { payload } : {}),
        ...(opts.ip ? { remoteAddress: opts.ip } : {}),
      });
      status = res.statusCode;
      responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value])
          if (v !== undefined) responseHeaders.append(name, String(v));
      }
      text = res.body;
    } else {
      if (opts.ip) headers["x-forwarded-for"] = opts.ip;
      const res = await fetch(`${base}${opts.path ?? "/graphql"}`, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
      status = res.status;
      responseHeaders = res.headers;
      text = await res.text();
    }
    let body: TBody;
    try {
      body = JSON.parse(text) as TBody;
    } catch {
      body = undefined as TBody;
    }
    return { status, headers: responseHeaders, text, body };
  }

  return {
    transport,
    server,
    config,
    clock,
    database,
    logs,
    rawLogs,
    send,
    gql: (query, opts = {}) =>
      send({
        body: { query, variables: opts.variables ?? {} },
        headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
        ...(opts.ip ? { ip: opts.ip } : {}),
      }),
    async close() {
      await server.close();
      await database.close();
    },
  };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  session: { id: string };
  user: { id: string; email: string };
}

let counter = 0;

/** A fresh account (BODY delivery), registered from `ip`. */
export async function register(h: Harness, options: { email?: string; ip?: string } = {}): Promise<Tokens> {
  counter += 1;
  const email = options.email ?? `hardening${counter}-${process.pid}-${Date.now()}@example.com`;
  const res = await h.gql<{ register: Tokens }>(REGISTER, {
    variables: {
      input: { email, password: TEST_PASSWORD, displayName: `User ${counter}`, refreshTokenDelivery: "BODY" },
    },
    ...(options.ip ? { ip: options.ip } : {}),
  });
  if (!res.body.data?.register) throw new Error(`register failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data.register;
}

export function loginAs(h: Harness, email: string, password: string, ip?: string) {
  return h.gql<{ login: Tokens }>(LOGIN, {
    variables: { input: { email, password, refreshTokenDelivery: "BODY" } },
    ...(ip ? { ip } : {}),
  });
}

export function refreshWith(h: Harness, token: string, ip?: string) {
  return h.gql<{ refresh: Tokens }>(REFRESH, { variables: { token }, ...(ip ? { ip } : {}) });
}

/** The first error's code and reason. */
export function errorOf(
  answer: HttpAnswer<GraphQLBody<unknown>>,
): { code: unknown; reason: unknown } | undefined {
  const e = answer.body?.errors?.[0];
  return e ? { code: e.extensions?.code, reason: e.extensions?.reason } : undefined;
}

export { TEST_PASSWORD };

/**
 * A `start(transport, env)` for tests that each start their own harness: the one started last is
 * closed after each test. Call at the top level of a test file.
 */
export function harnessPerTest(
  options: Omit<HarnessOptions, "env"> = {},
): (transport: Transport, env?: Record<string, string>) => Promise<Harness> {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (transport, env = {}) => {
    current = await startHarness(transport, { ...options, env });
    return current;
  };
}
