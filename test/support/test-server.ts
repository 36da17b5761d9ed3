import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { type Config, loadConfig } from "../../src/config/config.js";
import type { Database } from "../../src/db/database.js";
import { createServer, type HoldfastServer } from "../../src/server/create-server.js";
import { DEMO_MODULES } from "./demo-modules.js";
import { FakeClock } from "./fake-clock.js";
import { createTestDatabase } from "./test-db.js";
import { useForFile } from "./use-for-file.js";

/** Settings that keep tests fast (cheap argon2) and deterministic; override per test. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  KEY_PUBLISH_DELAY_SECONDS: "0",
  PUBLIC_URL: "http://localhost:4000",
  // Every test server of a run shares it, as the instances of one deployment do.
  REVOCATION_CHANNEL_SECRET: "test revocation channel secret, 32+ characters long",
};

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
  /** Cookies the response set, by name (value and attributes as sent). */
  setCookies: Record<string, string>;
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  /** Sent as `Authorization: Bearer <token>` unless `authorization` is given. */
  token?: string;
  authorization?: string;
  headers?: Record<string, string | string[]>;
  cookies?: Record<string, string>;
}

export interface TestServer {
  readonly server: HoldfastServer;
  readonly config: Config;
  readonly clock: FakeClock;
  readonly database: Database;
  /** Runs one GraphQL operation through the whole HTTP stack (in-process, no socket). */
  gql<TData = Record<string, unknown>>(
    query: string,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<TData>>;
  /** Listens on a loopback port for tests that need a real socket; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    clock?: FakeClock;
    database?: Database & { url: string };
    logger?: Logger;
    /** Instead of the demo modules (a test's own module beside them, say). */
    modules?: NonNullable<Parameters<typeof createServer>[0]["modules"]>;
  } = {},
): Promise<TestServer> {
  const clock = options.clock ?? new FakeClock(new Date());
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({ ...TEST_ENV, ...env, DATABASE_URL: database.url });
  const server = await createServer({
    config,
    clock,
    database,
    logger: options.logger ?? pino({ level: "silent" }),
    modules: options.modules ?? DEMO_MODULES,
  });
  return {
    server,
    config,
    clock,
    database,
    async gql(query, opts = {}) {
      const headers: Record<string, string | string[]> = {
        "content-type": "application/json",
        ...opts.headers,
      };
      if (opts.authorization) headers.authorization = opts.authorization;
      else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.cookies) {
        headers.cookie = Object.entries(opts.cookies)
          .map(([k, v]) => `${k}=${v}`)
          .join("; ");
      }
      const response = await server.app.inject({
        method: "POST",
        url: "/graphql",
        headers,
        payload: JSON.stringify({ query, variables: opts.variables ?? {} }),
      });
      const setCookies: Record<string, string> = {};
      const raw = response.headers["set-cookie"];
      for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
        const name = line.slice(0, line.indexOf("="));
        setCookies[name] = line;
      }
      return { status: response.statusCode, headers: response.headers, body: response.json(), setCookies };
    },
    async listen() {
      await server.app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = server.app.server.address() as AddressInfo;
      return `http://127.0.0.1:${port}`;
    },
    async close() {
      await server.close();
      if (!options.database) await database.close();
    },
  };
}

export const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken tokenType expiresAt scopes refreshToken session { id current } user { id email role } }
}`;

export const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken tokenType expiresAt scopes refreshToken session { id current } user { id email role } }
}`;

export const REFRESH = `mutation Refresh($token: String) {
  refresh(refreshToken: $token) { accessToken tokenType expiresAt scopes refreshToken session { id } }
}`;

export interface AuthPayload {
  accessToken: string;
  tokenType: string;
  expiresAt: string;
  scopes: string[];
  refreshToken: string | null;
  session: { id: string; current: boolean };
  user: { id: string; email: string; role: string };
}

let counter = 0;
export const TEST_PASSWORD = "correct horse battery staple";

/** Registers a fresh user (BODY delivery) and returns its tokens; admins are promoted in the database. */
export async function registerUser(
  t: TestServer,
  options: { email?: string; role?: "user" | "admin"; displayName?: string } = {},
): Promise<AuthPayload> {
  counter += 1;
  const email = options.email ?? `user${counter}-${Date.now()}@example.com`;
  const res = await t.gql<{ register: AuthPayload }>(REGISTER, {
    variables: {
      input: {
        email,
        password: TEST_PASSWORD,
        displayName: options.displayName ?? `User ${counter}`,
        refreshTokenDelivery: "BODY",
      },
    },
  });
  if (!res.body.data?.register) throw new Error(`register failed: ${JSON.stringify(res.body.errors)}`);
  if (options.role !== "admin") return res.body.data.register;
  await t.database.prisma.user.update({ where: { email }, data: { role: "admin" } });
  return login(t, email);
}

export async function login(
  t: TestServer,
  email: string,
  options: { scopes?: string[]; delivery?: "BODY" | "COOKIE"; headers?: Record<string, string> } = {},
): Promise<AuthPayload> {
  const res = await t.gql<{ login: AuthPayload }>(LOGIN, {
    variables: {
      input: {
        email,
        password: TEST_PASSWORD,
        refreshTokenDelivery: options.delivery ?? "BODY",
        ...(options.scopes ? { scopes: options.scopes } : {}),
      },
    },
    ...(options.headers ? { headers: options.headers } : {}),
  });
  if (!res.body.data?.login) throw new Error(`login failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data.login;
}

/** The first error's code and reason: what tests assert, rather than message text. */
export function errorOf(res: GraphQLResponse): { code: unknown; reason: unknown } | undefined {
  const e = res.body.errors?.[0];
  return e ? { code: e.extensions?.code, reason: e.extensions?.reason } : undefined;
}

/** One test server for the whole file (see useForFile): `const t = useTestServer(env)`. */
export function useTestServer(
  env: Record<string, string> = {},
  options: Parameters<typeof startTestServer>[1] = {},
): TestServer {
  return useForFile(
    () => startTestServer(env, options),
    (t) => t.close(),
  );
}

/**
 * One test server for the whole file, listening on a real socket (see useForFile):
 * `const t = useListeningServer(env)`; `t.base` is its origin, e.g. `http://127.0.0.1:PORT`.
 */
export function useListeningServer(
  env: Record<string, string> = {},
  options: Parameters<typeof startTestServer>[1] = {},
): TestServer & { base: string } {
  return useForFile(
    async () => {
      const t = await startTestServer(env, options);
      return Object.assign(t, { base: await t.listen() });
    },
    (t) => t.close(),
  );
}
