// Helpers for the scale-out tests: real server processes (test/support/server-process.ts) on one
// throwaway PostgreSQL database and one Redis key prefix, spoken to over HTTP like a load balancer would.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, vi } from "vitest";
import { migratePostgres } from "../../src/db/migrate.js";
import { startPrivateRedis } from "../support/private-services.js";
import {
  clearRedisPrefix,
  createEmptyDatabase,
  SHARED_POSTGRES_ADMIN_URL,
  SHARED_REDIS_URL,
  uniqueRedisPrefix,
} from "../support/shared-services.js";
import { standIn, useForFile } from "../support/use-for-file.js";

// Sized to the work, not to a quiet machine: a scale-out test starts server processes (each
// compiles TypeScript on start) and drives hundreds of requests through them. With other processes
// keeping both cores busy (stress-ng --cpu 2) a start alone took up to ~20 s here, so the suite's
// 30 s default failed tests that were only slow. Every file of this suite imports this module.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER_PROCESS = fileURLToPath(new URL("../support/server-process.ts", import.meta.url));

/**
 * The address clients use, the same for every instance (as behind a load balancer): tokens are
 * issued for it (`iss`) and DPoP proofs name it (`htu`), so any instance accepts any client.
 */
export const PUBLIC_URL = "http://holdfast.test";
export const GRAPHQL_URL = `${PUBLIC_URL}/graphql`;

/** Settings every instance starts from: production mode, cheap argon2, short timers. */
export const CLUSTER_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  LOG_LEVEL: "warn",
  PUBLIC_URL,
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  KEY_PUBLISH_DELAY_SECONDS: "3",
  KEY_RELOAD_INTERVAL_SECONDS: "1",
  REVOCATION_POLL_SECONDS: "1",
  // Required with REDIS_URL in production; one value for every instance of this test process.
  REVOCATION_CHANNEL_SECRET: randomBytes(32).toString("base64url"),
  // Every test client is 127.0.0.1: per-IP limits would otherwise refuse the load itself.
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "1000000",
};

export interface ThrowawayDatabase {
  readonly url: string;
  /** For the tests' own queries (consistency checks, counts). */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh database on a PostgreSQL server, migrated with the project's runner (PostgreSQL is never
 * migrated implicitly), dropped with FORCE so that a killed instance's connections do not block it.
 */
export async function createThrowawayDatabase(
  adminUrl = SHARED_POSTGRES_ADMIN_URL,
): Promise<ThrowawayDatabase> {
  const database = await createEmptyDatabase("holdfast_scale", adminUrl);
  try {
    await migratePostgres(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 3 });
  // A private server stopped on purpose drops the pool's idle connections: not a test failure.
  pool.on("error", () => {});
  let dropped: Promise<void> | undefined;
  return {
    url: database.url,
    pool,
    drop() {
      dropped ??= pool
        .end()
        .catch(() => {})
        .then(() => database.drop());
      return dropped;
    },
  };
}

export interface GraphQLAnswer<TData = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly data: TData | null | undefined;
  readonly errors: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined;
}

export interface GqlOptions {
  variables?: Record<string, unknown>;
  /** Sent as `Authorization: Bearer <token>` unless `authorization` is given. */
  token?: string;
  authorization?: string;
  dpop?: string;
  signal?: AbortSignal;
}

export interface Instance {
  readonly name: string;
  readonly origin: string;
  readonly pid: number;
  /** Log lines (pino JSON) the process wrote so far. */
  readonly logs: string[];
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  gql<TData = Record<string, unknown>>(query: string, options?: GqlOptions): Promise<GraphQLAnswer<TData>>;
  get(path: string): Promise<{ status: number; body: unknown }>;
  /** SIGTERM (graceful), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-work, as in a crash or an OOM kill. */
  kill(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const running = new Set<Instance>();
process.once("exit", () => {
  for (const instance of running) {
    try {
      process.kill(instance.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Starts one Holdfast process with CLUSTER_ENV + `env` and waits until it listens. */
export async function startInstance(name: string, env: Readonly<Record<string, string>>): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    cwd: PROJECT_ROOT,
    // Only what the test gives: the caller's shell (or vitest's NODE_ENV) cannot change the config.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...CLUSTER_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const port = await waitForPort(child, logs);
  const origin = `http://127.0.0.1:${port}`;
  const instance: Instance = {
    name,
    origin,
    pid: child.pid!,
    logs,
    exited,
    gql: (query, options) => gql(origin, query, options),
    async get(path) {
      const response = await fetch(`${origin}${path}`);
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      running.delete(instance);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
    async kill() {
      running.delete(instance);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  running.add(instance);
  return instance;
}

function waitForPort(child: ChildProcess, logs: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    let ready = false;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!ready && line.startsWith('{"port":')) {
        ready = true;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
        return;
      }
      logs.push(line);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`server exited before listening (${code ?? signal}): ${stderr}`));
    });
  });
}

export async function gql<TData = Record<string, unknown>>(
  origin: string,
  query: string,
  options: GqlOptions = {},
): Promise<GraphQLAnswer<TData>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.authorization) headers.authorization = options.authorization;
  else if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.dpop) headers.dpop = options.dpop;
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const body = (await response.json()) as {
    data?: TData | null;
    errors?: GraphQLAnswer<TData>["errors"];
  };
  return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
}

/** The first error's code and reason (what the tests assert, never message text). */
export function errorOf(answer: GraphQLAnswer<unknown>): { code: unknown; reason: unknown } | undefined {
  const first = answer.errors?.[0];
  return first ? { code: first.extensions?.code, reason: first.extensions?.reason } : undefined;
}

/**
 * Waits until every instance publishes the same JWKS, i.e. has loaded the same signing keys: on a
 * brand-new database instances started together may each create a first key, and they agree on one
 * after their next key reload (KEY_RELOAD_INTERVAL_SECONDS).
 */
export async function waitForSameKeys(instances: readonly Instance[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sets = await Promise.all(
      instances.map(async (i) => {
        const { body } = await i.get("/.well-known/jwks.json");
        return JSON.stringify(((body as { keys: { kid: string }[] }).keys ?? []).map((k) => k.kid).sort());
      }),
    );
    if (sets.every((s) => s === sets[0])) return;
    if (Date.now() > deadline) throw new Error(`instances publish different keys: ${sets.join(" vs ")}`);
    await sleep(100);
  }
}

export interface ClusterOptions {
  /** Settings for every instance of the file besides the database and Redis ones. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A private PostgreSQL server's admin URL, read in `beforeAll` (default: the shared server). The
   * file destroys that server itself, and the database with it: only the pool is closed here.
   */
  readonly postgres?: () => string;
  /**
   * "none" for instances without Redis, or a private Redis's URL read in `beforeAll` (default: the
   * shared one). A private Redis goes with its keys, so only the shared one has its prefix cleared.
   */
  readonly redis?: "none" | (() => string);
}

export interface Cluster {
  /** Read in a hook or a test: created in `beforeAll`. */
  readonly db: ThrowawayDatabase;
  readonly prefix: string;
  /** What every instance of the file starts with: the database, Redis and `options.env`. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts instances together on `env` (stopped in `afterAll`); several wait until they share keys. */
  start<N extends string[]>(...names: N): Promise<{ [K in keyof N]: Instance }>;
  /** `start` in a `beforeAll` of its own, for the whole file: stand-ins for the instances (see useForFile). */
  startForFile<N extends string[]>(...names: N): { [K in keyof N]: Instance };
}

/**
 * The setup every scale-out file shares: a throwaway database and a Redis key prefix of its own,
 * made in `beforeAll`; the instances started on them stopped, and both removed, in `afterAll`.
 * Call at the top level of a test file, after the hooks of any private server it names.
 */
export function useCluster(options: ClusterOptions = {}): Cluster {
  const prefix = uniqueRedisPrefix();
  const started: Instance[] = [];
  let db: ThrowawayDatabase | undefined;
  let env: Record<string, string> | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error("the cluster is set up in beforeAll: use it in a hook or a test");
    return value;
  };
  beforeAll(async () => {
    db = await createThrowawayDatabase(options.postgres?.());
    const redis =
      options.redis === "none"
        ? {}
        : { REDIS_URL: options.redis?.() ?? SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    env = { DATABASE_URL: db.url, ...redis, ...options.env };
  });
  afterAll(async () => {
    await Promise.allSettled(started.map((instance) => instance.stop()));
    if (options.postgres) await db?.pool.end().catch(() => {});
    else await db?.drop();
    if (options.redis === undefined) await clearRedisPrefix(prefix);
  });
  const cluster: Cluster = {
    get db() {
      return ready(db);
    },
    prefix,
    get env() {
      return ready(env);
    },
    async start<N extends string[]>(...names: N) {
      const instances = await Promise.all(
        names.map(async (name) => {
          const instance = await startInstance(name, ready(env));
          started.push(instance);
          return instance;
        }),
      );
      if (instances.length > 1) await waitForSameKeys(instances);
      return instances as { [K in keyof N]: Instance };
    },
    startForFile<N extends string[]>(...names: N) {
      let instances: Instance[] | undefined;
      beforeAll(async () => {
        instances = await cluster.start(...names);
      });
      return names.map((_, index) => standIn(() => instances?.[index])) as { [K in keyof N]: Instance };
    },
  };
  return cluster;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it returns true; returns the elapsed ms, or null on timeout. */
export async function within(
  timeoutMs: number,
  check: () => Promise<boolean>,
  everyMs = 50,
): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started >= timeoutMs) return null;
    await sleep(everyMs);
  }
}

export const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken tokenType refreshToken session { id } user { id } }
}`;
export const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken tokenType refreshToken session { id } user { id } }
}`;
export const REFRESH = `mutation Refresh($token: String) {
  refresh(refreshToken: $token) { accessToken tokenType refreshToken session { id } }
}`;
export const PASSWORD = "correct horse battery staple";

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly email: string;
}

let registered = 0;

interface SessionPayload {
  accessToken: string;
  refreshToken: string;
  session: { id: string };
  user: { id: string };
}

function tokensOf(payload: SessionPayload, email: string): Tokens {
  return {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    sessionId: payload.session.id,
    userId: payload.user.id,
    email,
  };
}

/** Registers a fresh user on `instance` (BODY delivery) and returns its first session's tokens. */
export async function registerUser(instance: Instance, dpop?: string): Promise<Tokens> {
  registered += 1;
  const email = `scale${registered}-${randomBytes(4).toString("hex")}@example.com`;
  const answer = await instance.gql<{ register: SessionPayload }>(REGISTER, {
    variables: { input: { email, password: PASSWORD, displayName: email, refreshTokenDelivery: "BODY" } },
    ...(dpop ? { dpop } : {}),
  });
  const payload = answer.data?.register;
  if (!payload) throw new Error(`register failed: ${JSON.stringify(answer.errors)}`);
  return tokensOf(payload, email);
}

export async function login(instance: Instance, email: string, dpop?: string): Promise<Tokens> {
  const answer = await instance.gql<{ login: SessionPayload }>(LOGIN, {
    variables: { input: { email, password: PASSWORD, refreshTokenDelivery: "BODY" } },
    ...(dpop ? { dpop } : {}),
  });
  const payload = answer.data?.login;
  if (!payload) throw new Error(`login failed: ${JSON.stringify(answer.errors)}`);
  return tokensOf(payload, email);
}

/** The `kid` in a compact JWT's protected header. */
export function kidOf(jwt: string): string {
  const header = JSON.parse(Buffer.from(jwt.split(".")[0]!, "base64url").toString()) as { kid?: string };
  if (typeof header.kid !== "string") throw new Error("token has no kid");
  return header.kid;
}

/**
 * Instances A and B on a Redis of their own, which the test may stop, pause or kill, polling
 * revocations every `pollSeconds` while it is away. Hooks run in order and after-hooks in reverse:
 * Redis is up before the instances and down after them. A starts first and creates the signing
 * key; B loads it.
 */
export function usePairOnPrivateRedis(pollSeconds: number) {
  const redis = useForFile(startPrivateRedis, (r) => r.destroy());
  const cluster = useCluster({
    redis: () => redis.url,
    env: { REVOCATION_POLL_SECONDS: String(pollSeconds) },
  });
  let a: Instance | undefined;
  let b: Instance | undefined;
  beforeAll(async () => {
    [a] = await cluster.start("A");
    [b] = await cluster.start("B");
  });
  return { redis, cluster, a: standIn(() => a), b: standIn(() => b) };
}
