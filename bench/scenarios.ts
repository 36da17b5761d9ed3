// The scenario registry: `npm run bench` runs every scenario here that is not opt-in, in this order.
//
// To add one, append an object implementing Scenario (bench/harness/scenario.ts). The harness gives it
// a fresh database (`database: "postgres"` for PostgreSQL), seeds it through `seed`, starts
// `instances` server processes with `env`, calls `prepare`, and runs the returned driver in slices,
// taking turns with the other scenarios. Drive HTTP with httpLoad (autocannon), or write a driver
// like rotationLoad when every request depends on the previous answer.
// Planned: a DPoP-bound `me` (a fresh proof per request: autocannon's `setupRequest` can set the
// header), refresh rotations on PostgreSQL (`database: "postgres"`), and two instances sharing one
// database and a Redis revocation bus (`instances: 2`, env REDIS_URL).
import type { Prisma } from "../src/db/database.js";
import { dpopScenarios } from "./dpop-scenarios.js";
import type { BenchOptions } from "./harness/bench-options.js";
import { type BenchUser, gql, registerUser } from "./harness/graphql-client.js";
import { httpLoad } from "./harness/http-load.js";
import type { LoadDriver } from "./harness/load-driver.js";
import { rotationLoad } from "./harness/rotation-load.js";
import type { PreparedScenario, Scenario, ScenarioContext } from "./harness/scenario.js";
import { seedRevokedSessions, seedUsers } from "./harness/seed.js";

const ME = "{ me { id } }";
// Builds the context (so verifies the token and checks revocation) but reads no database: the
// authentication path alone, where `me` adds a Prisma read per request.
const PING = "{ __typename }";
const LIST_100 = "{ users(first: 100) { edges { node { id displayName createdAt } } } }";

/** A 2xx body counts only when it is data without errors: GraphQL reports failures with HTTP 200. */
const dataBody =
  (prefix: string, mustInclude = "") =>
  (body: string) =>
    body.startsWith(prefix) && !body.includes('"errors"') && body.includes(mustInclude);

function load(
  context: ScenarioContext,
  query: string,
  expectBody: (body: string) => boolean,
  headers: Record<string, string> = {},
): LoadDriver {
  return httpLoad({
    url: context.servers[0]!.graphqlUrl,
    connections: context.options.connections,
    query,
    headers,
    expectBody,
  });
}

/** Registers a user and checks that `{ me { id } }` with its token answers that user. */
async function authenticatedUser(context: ScenarioContext): Promise<BenchUser> {
  const url = context.servers[0]!.graphqlUrl;
  const user = await registerUser(url);
  const check = await gql<{ me: { id: string } | null }>(url, ME, {
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  if (check.data?.me?.id !== user.userId) throw new Error(`me with a token: ${JSON.stringify(check)}`);
  return user;
}

async function meWithToken(context: ScenarioContext): Promise<PreparedScenario> {
  const user = await authenticatedUser(context);
  const driver = load(context, ME, dataBody('{"data":{"me":{', `"id":"${user.userId}"`), {
    authorization: `Bearer ${user.accessToken}`,
  });
  return { driver };
}

async function pingWithToken(context: ScenarioContext): Promise<PreparedScenario> {
  const user = await authenticatedUser(context);
  const driver = load(context, PING, dataBody('{"data":{"__typename":"Query"}'), {
    authorization: `Bearer ${user.accessToken}`,
  });
  return { driver };
}

/** Seeds revoked sessions, and checks that the server under test loaded them all at start. */
const revokedSessions = {
  seed: (prisma: Prisma, options: BenchOptions) => seedRevokedSessions(prisma, options.revokedSessions),
  checked:
    (prepare: (context: ScenarioContext) => Promise<PreparedScenario>) =>
    async (context: ScenarioContext): Promise<PreparedScenario> => {
      const loaded = context.servers[0]!.revocationsAtStart;
      if (loaded < context.options.revokedSessions) {
        throw new Error(`server loaded ${loaded} revocations, expected ${context.options.revokedSessions}`);
      }
      return { ...(await prepare(context)), note: `RevocationSet held ${loaded} sessions at start` };
    },
};

async function rotations(context: ScenarioContext, clients: number): Promise<PreparedScenario> {
  const url = context.servers[0]!.graphqlUrl;
  const users: BenchUser[] = [];
  // One at a time: registering hashes a password, and this is setup, not load.
  for (let i = 0; i < clients; i++) users.push(await registerUser(url));
  return {
    driver: rotationLoad(
      url,
      users.map((u) => u.refreshToken),
    ),
    note: `${clients} client(s), each rotating its own session (BODY delivery)`,
  };
}

export const scenarios: readonly Scenario[] = [
  {
    name: "list-100",
    issue: 2,
    summary:
      "`users(first: 100) { edges { node { id displayName createdAt } } }`, a signed-in user (the directory needs `users:read`), 150 users seeded",
    seed: async (prisma) => {
      await seedUsers(prisma, 150);
    },
    prepare: async (context) => {
      const user = await authenticatedUser(context);
      const headers = { authorization: `Bearer ${user.accessToken}` };
      const check = await gql<{ users: { edges: unknown[] } }>(context.servers[0]!.graphqlUrl, LIST_100, {
        headers,
      });
      const rows = check.data?.users.edges.length;
      if (rows !== 100) throw new Error(`list-100 answered ${rows} rows: ${JSON.stringify(check.errors)}`);
      return { driver: load(context, LIST_100, dataBody('{"data":{"users":{"edges":['), headers) };
    },
  },
  {
    name: "me-anon",
    issue: 2,
    summary: "`{ me { id } }` without a token (the small query; anonymous viewer, no database read)",
    prepare: async (context) => ({ driver: load(context, ME, dataBody('{"data":{"me":null}')) }),
  },
  {
    name: "me-token",
    issue: 3,
    summary: "`{ me { id } }` with a valid Bearer token, verified-token cache on (default size)",
    compareWith: "me-anon",
    prepare: meWithToken,
  },
  {
    name: "me-token-nocache",
    issue: 3,
    summary: "the same with the verified-token cache off (TOKEN_CACHE_SIZE=0): EdDSA verify per request",
    env: { TOKEN_CACHE_SIZE: "0" },
    compareWith: "me-token",
    prepare: meWithToken,
  },
  {
    name: "me-token-revoked",
    issue: 4,
    summary: "me-token against a server whose RevocationSet holds BENCH_REVOKED_SESSIONS revoked sessions",
    compareWith: "me-token",
    seed: revokedSessions.seed,
    prepare: revokedSessions.checked(meWithToken),
  },
  {
    name: "ping-anon",
    issue: 3,
    summary: "`{ __typename }` without a token: the request path with no resolver work and no database",
    prepare: async (context) => ({ driver: load(context, PING, dataBody('{"data":{"__typename":"Query"}')) }),
  },
  {
    name: "ping-token",
    issue: 3,
    summary: "`{ __typename }` with a valid Bearer token, cache on: authentication alone, no database read",
    compareWith: "ping-anon",
    prepare: pingWithToken,
  },
  {
    name: "ping-token-nocache",
    issue: 3,
    summary: "the same with the verified-token cache off (TOKEN_CACHE_SIZE=0)",
    env: { TOKEN_CACHE_SIZE: "0" },
    compareWith: "ping-token",
    prepare: pingWithToken,
  },
  {
    name: "ping-token-revoked",
    issue: 4,
    summary: "ping-token against a server whose RevocationSet holds BENCH_REVOKED_SESSIONS revoked sessions",
    compareWith: "ping-token",
    seed: revokedSessions.seed,
    prepare: revokedSessions.checked(pingWithToken),
  },
  {
    name: "refresh-seq",
    issue: 4,
    summary: "refresh rotations, 1 client (sequential), embedded SQLite",
    prepare: (context) => rotations(context, 1),
  },
  {
    name: "refresh-10",
    issue: 4,
    summary: "refresh rotations, 10 concurrent clients on distinct sessions, embedded SQLite",
    compareWith: "refresh-seq",
    prepare: (context) => rotations(context, 10),
  },
  ...dpopScenarios,
];
