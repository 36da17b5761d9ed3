// What the permission layer costs: the same operations on three schemas that differ only in
// authorization, side by side in one process, interleaved round by round.
//   (a) none      buildSchema({ authorization: "none" })   no permission layer (baseline)
//   (b) enforced  buildSchema()                            the permission map, decided fields only
//   (c) naive     buildSchema({ authorization: "naive" })  graphql-shield wrapping every field
// Each runs in its own ApolloServer (same options) through executeOperation, with a context built as
// createServer builds it. Two data paths:
//   database   the real services on a seeded database (SQLite; TEST_DATABASE=postgres for PostgreSQL)
//   in-memory  the same data served from memory: execution and authorization only, the worst case
// Timing: each sample is a batch of operations; samples of the three schemas are interleaved (the
// order rotates every round) and the median per operation is reported, in CPU time of this process
// (steadier than wall time on a shared machine; with SQLite the database work is in-process too)
// and in wall time.
// Run: npx tsx bench/authz.ts [rounds] [listOpsPerSample]
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import DataLoader from "dataloader";
import pino from "pino";
import { type Viewer, viewerOf } from "../src/auth/viewer.js";
import type { AuthorizationMode } from "../src/authz/shield.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config/config.js";
import { createFormatError } from "../src/errors/format-error.js";
import { httpEvents, InProcessEventBus } from "../src/events/index.js";
import type { GraphQLContext, Services } from "../src/graphql/context.js";
import type { HoldfastDatabase } from "../src/graphql/public-context.js";
import { buildSchema } from "../src/graphql/schema.js";
import type { NoteModel } from "../src/modules/notes/note-model.js";
import type { NoteService } from "../src/modules/notes/note-service.js";
import { createNoteStore } from "../src/modules/notes/note-store.js";
import { useNotesService } from "../src/modules/notes/notes-service-registry.js";
import { toPage } from "../src/pagination.js";
import { createServer } from "../src/server/create-server.js";
import type { UserModel } from "../src/users/user-model.js";
import { DEMO_MODULES, demoCatalogue as defaultScopeCatalogue } from "../test/support/demo-modules.js";
import { FakeClock } from "../test/support/fake-clock.js";
import { createTestDatabase } from "../test/support/test-db.js";
import { TEST_ENV } from "../test/support/test-server.js";

const rounds = Number(process.argv[2] ?? 30);
const listOpsPerSample = Number(process.argv[3] ?? 5);
const USERS = 100;
const NOTES_PER_USER = 5;

// users(first: 100) × notes(first: 5) = 500 note rows of 5 fields each (owner counts as one).
const LIST = `query List {
  users(first: 100) { edges { node { id notes(first: 5) { edges { node { id title body createdAt owner { id } } } } } } }
}`;
const ME = "query Me { me { id } }";

const MODES: readonly AuthorizationMode[] = ["none", "enforced", "naive"];
const logger = pino({ level: "silent" });

function apolloFor(mode: AuthorizationMode): ApolloServer<GraphQLContext> {
  return new ApolloServer<GraphQLContext>({
    schema: buildSchema({ modules: DEMO_MODULES, authorization: mode }),
    plugins: [ApolloServerPluginCacheControlDisabled()],
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger, { exposeStack: false }),
  });
}

/** A database handle whose notes come from memory (useNotesService); nothing reads it. */
const IN_MEMORY = { provider: "sqlite" } as HoldfastDatabase;

/** The data of the seeded database, served from memory with the services' own paging. */
function inMemoryServices(services: Services, users: UserModel[]): Services {
  const sortedUsers = [...users].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    ...services,
    users: {
      list: async (first: number | null | undefined) =>
        toPage(sortedUsers.slice(0, (first ?? 20) + 1), first ?? 20),
      findManyByIds: async (ids: readonly string[]) =>
        ids.map((id) => users.find((u) => u.id === id) ?? null),
    } as unknown as Services["users"],
  };
}

function inMemoryNotes(notes: NoteModel[]): NoteService {
  const byOwner = new Map<string, NoteModel[]>();
  for (const note of [...notes].sort((a, b) => (a.id < b.id ? 1 : -1))) {
    byOwner.set(note.ownerId, [...(byOwner.get(note.ownerId) ?? []), note]);
  }
  return {
    list: async (first: number | null | undefined, _after: unknown, ownerId?: string) =>
      toPage((ownerId ? byOwner.get(ownerId) : notes)?.slice(0, (first ?? 20) + 1) ?? [], first ?? 20),
  } as unknown as NoteService;
}

function contextFactory(services: Services, viewer: Viewer, database: HoldfastDatabase) {
  return (): GraphQLContext => {
    const users = new DataLoader((ids: readonly string[]) => services.users.findManyByIds(ids));
    return {
      viewer,
      proofJkt: null,
      client: { ip: "127.0.0.1", userAgent: "bench" },
      services,
      refreshCookie: { read: () => null, set: () => {}, clear: () => {} },
      loaders: { user: users },
      users,
      stepUp: { maxAgeSeconds: 300, clock: systemClock },
      events: httpEvents(new InProcessEventBus()),
      database,
      clock: systemClock,
    };
  };
}

async function run(apollo: ApolloServer<GraphQLContext>, query: string, context: () => GraphQLContext) {
  const res = await apollo.executeOperation({ query }, { contextValue: context() });
  if (res.body.kind !== "single") throw new Error("unexpected incremental response");
  return res.body.singleResult;
}

interface Sample {
  cpuMs: number;
  wallMs: number;
}

async function timePerOp(ops: number, once: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await once();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / ops;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / ops, wallMs };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main() {
  const database = await createTestDatabase();
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: database.url });
  const clock = new FakeClock(new Date());
  const server = await createServer({ config, clock, database, logger, modules: DEMO_MODULES });
  try {
    // Seed directly (users through Prisma, notes through their store): 100 users, 5 notes each, ids in creation order.
    const now = clock.now().getTime();
    const pad = (n: number) => String(n).padStart(4, "0");
    const userRows = Array.from({ length: USERS }, (_, i) => ({
      id: `u-${pad(i)}`,
      email: `bench${i}@example.com`,
      passwordHash: "unusable",
      displayName: `Bench ${i}`,
      role: i === 0 ? "admin" : "user",
      createdAt: new Date(now + i),
    }));
    const noteRows = userRows.flatMap((u, i) =>
      Array.from({ length: NOTES_PER_USER }, (_, j) => ({
        id: `n-${pad(i)}-${j}`,
        ownerId: u.id,
        title: `Note ${j} of ${u.displayName}`,
        body: `Body ${j}: ${"lorem ipsum ".repeat(8)}`,
        createdAt: new Date(now + i * 10 + j),
      })),
    );
    const { prisma } = server.database;
    await prisma.user.createMany({ data: userRows });
    const notes = createNoteStore(server.database.driver);
    for (const note of noteRows) await notes.insert(note);

    // An admin viewer reads every body (notes:read:any), so all three schemas return the same data,
    // and the owner rule runs its longest path (not the owner, then the scope) on every row.
    const viewer: Viewer = viewerOf({
      userId: "u-0000",
      sessionId: "bench-session",
      scopes: new Set(defaultScopeCatalogue.grantedAtLogin("admin")),
      jkt: null,
      expiresAt: Math.floor(now / 1000) + 3600,
      tokenId: "bench",
      authentication: null,
    });
    const users = userRows.map(({ passwordHash: _h, ...u }) => ({ ...u, role: u.role as UserModel["role"] }));
    useNotesService(IN_MEMORY, inMemoryNotes(noteRows));
    const paths = {
      database: contextFactory(server.services, viewer, server.database.driver),
      "in-memory": contextFactory(inMemoryServices(server.services, users), viewer, IN_MEMORY),
    } as const;
    const apollos = Object.fromEntries(MODES.map((m) => [m, apolloFor(m)])) as Record<
      AuthorizationMode,
      ApolloServer<GraphQLContext>
    >;
    for (const apollo of Object.values(apollos)) await apollo.start();

    // Same answer everywhere, and no error: otherwise the ratios would compare different work.
    for (const [path, context] of Object.entries(paths)) {
      const reference = JSON.stringify(await run(apollos.none, LIST, context));
      const rows = (reference.match(/"body"/g) ?? []).length;
      if (rows !== USERS * NOTES_PER_USER) throw new Error(`${path}: expected 500 note rows, got ${rows}`);
      for (const mode of MODES) {
        const result = await run(apollos[mode], LIST, context);
        if (result.errors || JSON.stringify(result) !== reference) throw new Error(`${mode}/${path} differs`);
      }
    }

    const workloads = [
      {
        name: "list (500 rows)",
        query: LIST,
        ops: (p: string) => (p === "database" ? listOpsPerSample : listOpsPerSample * 4),
      },
      { name: "{ me { id } }", query: ME, ops: () => listOpsPerSample * 100 },
    ];
    const samples = new Map<string, Sample[]>();
    const key = (path: string, workload: string, mode: string) => `${path}|${workload}|${mode}`;

    for (const [path, context] of Object.entries(paths)) {
      for (const workload of workloads) {
        // Warm-up: JIT, Prisma's statement cache, DataLoader paths.
        for (const mode of MODES)
          await timePerOp(workload.ops(path), () => run(apollos[mode], workload.query, context));
        for (let round = 0; round < rounds; round++) {
          // Rotate the order each round so that drift on a shared machine falls on every mode alike.
          const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
          for (const mode of order) {
            const ms = await timePerOp(workload.ops(path), () => run(apollos[mode], workload.query, context));
            const k = key(path, workload.name, mode);
            samples.set(k, [...(samples.get(k) ?? []), ms]);
          }
        }
      }
    }

    const lines = [
      `authz bench: ${rounds} interleaved samples per cell, median per operation; ${server.database.provider}; node ${process.version}`,
      "",
      "| data path | operation | (a) none | (b) enforced | (c) naive shield | b/a cpu | c/a cpu | b/a wall | c/a wall |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    const format = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`);
    let verdict = true;
    for (const path of Object.keys(paths)) {
      for (const workload of workloads) {
        const cell = (m: AuthorizationMode, metric: keyof Sample) =>
          median((samples.get(key(path, workload.name, m)) ?? []).map((s) => s[metric]));
        const [a, b, c] = MODES.map((m) => cell(m, "cpuMs")) as [number, number, number];
        const [aw, bw, cw] = MODES.map((m) => cell(m, "wallMs")) as [number, number, number];
        lines.push(
          `| ${path} | ${workload.name} | ${format(a)} | ${format(b)} | ${format(c)} | ${(b / a).toFixed(3)} | ${(c / a).toFixed(3)} | ${(bw / aw).toFixed(3)} | ${(cw / aw).toFixed(3)} |`,
        );
        if (workload.query === LIST && b / a > 1.1) verdict = false;
      }
    }
    lines.push(
      "",
      "Times are CPU time of this process per operation (median); wall-time ratios beside them.",
    );
    lines.push(
      "",
      `list query, enforced vs none (CPU): ${verdict ? "within" : "OVER"} the 10% budget on every data path`,
    );
    console.log(lines.join("\n"));
    for (const apollo of Object.values(apollos)) await apollo.stop();
  } finally {
    await server.close();
    await database.close();
  }
}

await main();
