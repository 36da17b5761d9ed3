// Holdfast side by side with the stack a user would otherwise write: Apollo Server 5 on Fastify,
// jose `jwtVerify` on every request, graphql-shield rules, Prisma model queries in the resolvers.
// Same SQLite file, same users, same access token (the typical stack verifies Holdfast's token
// with Holdfast's public key), both in this process through Fastify's inject, in turns.
//
//   npx tsx bench/typical-stack.ts [requestsPerRound=300] [rounds=5]
//
// CPU per operation is this process's CPU (process.cpuUsage, every thread) over a round divided
// by its requests; the ratio is typical ÷ Holdfast per round, and the table shows the median and
// the range over rounds.

import { ApolloServer } from "@apollo/server";
import fastifyApollo from "@as-integrations/fastify";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import Fastify from "fastify";
import { applyMiddleware } from "graphql-middleware";
import { allow, rule, shield } from "graphql-shield";
import { importJWK, type JWK, jwtVerify } from "jose";
import pino from "pino";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config/config.js";
import { PrismaClient } from "../src/db/generated/sqlite/index.js";
import { sqliteFilePath } from "../src/db/migrate.js";
import { createServer } from "../src/server/create-server.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";
import { createTestDatabase } from "../test/support/test-db.js";
import { TEST_ENV, TEST_PASSWORD } from "../test/support/test-server.js";
import { loadAverage } from "./harness/in-turns.js";
import { median } from "./harness/measurement.js";
import { seedUsers } from "./harness/seed.js";

const perRound = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 5);

// --- Holdfast ---------------------------------------------------------------------------------
const database = await createTestDatabase();
if (database.provider !== "sqlite") throw new Error("this bench compares on the embedded SQLite file");
await seedUsers(database.prisma, 150);
const config = loadConfig({ ...TEST_ENV, LOG_LEVEL: "warn", NODE_ENV: "test", DATABASE_URL: database.url });
const holdfast = await createServer({
  config,
  clock: systemClock,
  database,
  logger: pino({ level: "warn" }),
  modules: DEMO_MODULES,
});
const inject = (app: { inject: typeof holdfast.app.inject }, query: string, token?: string) =>
  app.inject({
    method: "POST",
    url: "/graphql",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify({ query }),
  });
const registered = await holdfast.app.inject({
  method: "POST",
  url: "/graphql",
  headers: { "content-type": "application/json" },
  payload: JSON.stringify({
    query: `mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }`,
    variables: { i: { email: "typical@bench.example", password: TEST_PASSWORD, displayName: "Typical" } },
  }),
});
const { accessToken, user } = registered.json().data.register as {
  accessToken: string;
  user: { id: string };
};

// --- The typical stack --------------------------------------------------------------------------
const typeDefs = /* GraphQL */ `
  type User { id: ID! displayName: String! email: String createdAt: String! }
  type UserEdge { cursor: String! node: User! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type UserConnection { edges: [UserEdge!]! pageInfo: PageInfo! }
  type Query { me: User users(first: Int, after: String): UserConnection! }
`;
interface TypicalContext {
  user: { sub: string; scope: string[] } | null;
}
const prisma = new PrismaClient({
  adapter: new PrismaBetterSQLite3({ url: sqliteFilePath(database.url), timeout: 5000 }),
});
const publicJwk = holdfast.keys.jwks().keys[0] as JWK;
const publicKey = await importJWK(publicJwk, publicJwk.alg ?? "EdDSA");
const resolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: TypicalContext) =>
      ctx.user ? prisma.user.findUnique({ where: { id: ctx.user.sub } }) : null,
    users: async (_: unknown, args: { first?: number; after?: string }) => {
      const first = Math.min(args.first ?? 20, 100);
      const rows = await prisma.user.findMany({
        take: first + 1,
        orderBy: { id: "asc" },
        ...(args.after ? { cursor: { id: args.after }, skip: 1 } : {}),
      });
      const nodes = rows.slice(0, first);
      return {
        edges: nodes.map((node) => ({ cursor: node.id, node })),
        pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.at(-1)?.id ?? null },
      };
    },
  },
  User: { createdAt: (u: { createdAt: Date }) => u.createdAt.toISOString() },
};
const isAuthenticated = rule({ cache: "contextual" })((_p, _a, ctx: TypicalContext) => ctx.user !== null);
const canReadEmail = rule({ cache: "strict" })(
  (parent: { id: string }, _a, ctx: TypicalContext) =>
    ctx.user !== null && (ctx.user.sub === parent.id || ctx.user.scope.includes("users:read:email")),
);
// The directory needs `users:read` on both sides (Holdfast's rule since issue 15).
const canListUsers = rule({ cache: "contextual" })(
  (_p, _a, ctx: TypicalContext) => ctx.user?.scope.includes("users:read") === true,
);
const permissions = shield(
  { Query: { me: isAuthenticated, users: canListUsers }, User: { email: canReadEmail } },
  { fallbackRule: allow },
);
const typical = new ApolloServer<TypicalContext>({
  schema: applyMiddleware(makeExecutableSchema({ typeDefs, resolvers }), permissions),
});
await typical.start();
const typicalApp = Fastify({ logger: false });
await typicalApp.register(fastifyApollo(typical), {
  context: async (request) => {
    const header = request.headers.authorization;
    if (!header?.startsWith("Bearer ")) return { user: null };
    const { payload } = await jwtVerify(header.slice(7), publicKey, {
      issuer: config.tokens.issuer,
      audience: config.tokens.audience,
      algorithms: ["EdDSA"],
      typ: "at+jwt",
    });
    const scope = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
    return { user: { sub: String(payload.sub), scope } };
  },
});
await typicalApp.ready();

// --- The operations, each checked once on both ---------------------------------------------------
const operations = [
  { name: "`{ me { id } }`", query: "{ me { id } }", token: accessToken },
  {
    name: "`{ me { id displayName email } }` (one row)",
    query: "{ me { id displayName email } }",
    token: accessToken,
  },
  {
    name: "`users(first: 100)`",
    query: "{ users(first: 100) { edges { node { id displayName createdAt } } } }",
    token: accessToken,
  },
];
for (const op of operations) {
  for (const [name, app] of [
    ["holdfast", holdfast.app],
    ["typical", typicalApp],
  ] as const) {
    const res = await inject(app, op.query, op.token);
    const body = res.json() as { data?: Record<string, unknown>; errors?: unknown };
    if (res.statusCode !== 200 || body.errors) throw new Error(`${name} ${op.query}: ${res.body}`);
    if ("me" in (body.data ?? {}) && (body.data?.me as { id?: string } | null)?.id !== user.id)
      throw new Error(`${name}: wrong user`);
    if (
      "users" in (body.data ?? {}) &&
      (body.data?.users as { edges: unknown[] } | undefined)?.edges.length !== 100
    )
      throw new Error(`${name}: not 100 rows`);
  }
}

async function round(app: { inject: typeof holdfast.app.inject }, query: string, token?: string) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < perRound; i++) await inject(app, query, token);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / perRound;
}

const before = loadAverage();
const results = operations.map(() => ({ holdfast: [] as number[], typical: [] as number[] }));
// Warm-up: JIT and both Prisma clients' first queries.
for (const op of operations) {
  await round(holdfast.app, op.query, op.token);
  await round(typicalApp, op.query, op.token);
}
for (let r = 0; r < rounds; r++) {
  for (const [i, op] of operations.entries()) {
    // Alternate which goes first, so neither always follows the other's garbage.
    const order = r % 2 === 0 ? (["holdfast", "typical"] as const) : (["typical", "holdfast"] as const);
    for (const which of order) {
      results[i]![which].push(
        await round(which === "holdfast" ? holdfast.app : typicalApp, op.query, op.token),
      );
    }
  }
}
console.log(
  `typical-stack ${new Date().toISOString()} · ${rounds} rounds × ${perRound} requests per operation and stack, in turns, in process (inject) · load average before: ${before}, after: ${loadAverage()}\n`,
);
console.log(
  "| operation | Holdfast CPU µs/op | typical stack CPU µs/op | typical ÷ Holdfast (median, range over rounds) |",
);
console.log("|---|--:|--:|---|");
for (const [i, op] of operations.entries()) {
  const { holdfast: h, typical: t } = results[i]!;
  const ratios = h.map((value, r) => t[r]! / value);
  console.log(
    `| ${op.name} | ${median(h).toFixed(0)} | ${median(t).toFixed(0)} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`,
  );
}
await typicalApp.close();
await typical.stop();
await prisma.$disconnect();
await holdfast.close();
await database.close();
