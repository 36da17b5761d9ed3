// The enforced schema runs decided fields through a synchronous fast path; the naive one through
// graphql-shield's own middleware. Same rules, so every answer must be the same, denials included.
// The comparison is generated from the schema and the permission map: one operation per field,
// for every viewer kind, and it fails when a field or a rule kind has no coverage.
import DataLoader from "dataloader";
import { type ExecutionResult, execute, type GraphQLSchema, parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuthPayloadModel } from "../../src/auth/auth-payload.js";
import type { SessionModel } from "../../src/auth/sessions/session-model.js";
import { viewerOf as makeViewer, type Viewer } from "../../src/auth/viewer.js";
import type { FieldRule } from "../../src/authz/field-rule.js";
import { schemaFields } from "../../src/authz/shield.js";
import { httpEvents, InProcessEventBus } from "../../src/events/index.js";
import type { GraphQLContext, Services } from "../../src/graphql/context.js";
import { buildSchema } from "../../src/graphql/schema.js";
import type { NoteModel } from "../../src/modules/notes/note-model.js";
import type { UserModel } from "../../src/users/user-model.js";
import { type SeededUser, seedNote, seedUser } from "../support/as-viewer.js";
import {
  DEMO_MODULES,
  demoCatalogue as defaultScopeCatalogue,
  demoPermissions,
} from "../support/demo-modules.js";
import { type FieldOperation, fieldOperations } from "../support/field-operations.js";
import { useTestServer } from "../support/test-server.js";

type RuleKind = FieldRule<never>["kind"];

/**
 * Every rule kind, and whether it decides at run time (then some viewer must be allowed and some
 * refused on each field it guards). A new kind does not compile until it is listed here; give it
 * the viewers that pass and fail it in VIEWERS.
 */
const RULE_KINDS = {
  public: { decides: false },
  parent: { decides: false },
  authenticated: { decides: true },
  scopes: { decides: true },
  admin: { decides: true },
  owner: { decides: true },
  // Always allows; it marks the payload's account as its own owner (checked in MIXED below).
  subject: { decides: false },
  stepUp: { decides: true },
  // SDL rules (@policy, several directives on one field): the core's map uses neither; their
  // equivalence is checked on a module's schema in test/authz/directives-fast-path.test.ts.
  policy: { decides: true },
  all: { decides: true },
} as const satisfies Record<RuleKind, { decides: boolean }>;

/**
 * Fields no query or mutation reaches (subscriptions: `execute` cannot run them), each named with
 * what covers it instead. A new field of that kind fails the coverage test until it is listed here.
 */
const NOT_GENERATED: Record<string, string> = {
  "Subscription.noteEvents": "test/authz/permission-matrix.test.ts (live cells)",
  "NoteEvent.kind": "test/authz/permission-matrix.test.ts (live cells)",
  "NoteEvent.noteId": "test/authz/permission-matrix.test.ts (live cells)",
  "NoteEvent.note": "test/authz/permission-matrix.test.ts (live cells)",
};

const t = useTestServer();
let alice: SeededUser;
let bob: SeededUser;
let aliceNote: NoteModel;
let aliceModel: UserModel;
let aliceSession: SessionModel;

beforeAll(async () => {
  alice = await seedUser(t);
  bob = await seedUser(t);
  aliceNote = await seedNote(t, alice, { body: "alice body" });
  await seedNote(t, bob, { body: "bob body" });
  aliceModel = (await t.server.services.users.findManyByIds([alice.id]))[0]!;
  aliceSession = (await t.server.services.sessions.listForUser(alice.id))[0]!;
  // One passkey of alice's, so that the Passkey fields are reached through `passkeys`.
  await t.database.prisma.passkey.create({
    data: {
      id: "fast-path-passkey",
      userId: alice.id,
      userHandle: "handle",
      publicKey: "key",
      counter: 0,
      transports: null,
      deviceType: "singleDevice",
      backedUp: false,
      name: "Laptop",
      createdAt: new Date("2030-01-01T00:00:00.000Z"),
      lastUsedAt: null,
    },
  });
});

/** A step-up authentication (RFC 9470) that passes every rule: a passkey, now. */
const justReauthenticatedWithPasskey = (): Viewer["authentication"] => ({
  authTime: Math.floor(t.clock.now().getTime() / 1000),
  acr: "phr",
  amr: ["hwk"],
});

function viewerOf(
  user: SeededUser,
  scopes: readonly string[],
  authentication: Viewer["authentication"] = null,
): Viewer {
  return makeViewer({
    userId: user.id,
    sessionId: user.sessionId,
    scopes: new Set(scopes),
    jkt: null,
    expiresAt: 0,
    tokenId: "j",
    authentication,
  });
}

/** Anonymous, scoped, owner and non-owner: fixture objects (the note, the user) belong to alice. */
const VIEWERS: [string, () => Viewer | null][] = [
  ["anonymous", () => null],
  ["a token without scopes", () => viewerOf(bob, [])],
  ["the owner", () => viewerOf(alice, defaultScopeCatalogue.grantedAtLogin("user"))],
  ["a non-owner", () => viewerOf(bob, defaultScopeCatalogue.grantedAtLogin("user"))],
  ["the owner narrowed to notes:write", () => viewerOf(alice, ["notes:write"])],
  ["a non-owner narrowed to users:read", () => viewerOf(bob, ["users:read"])],
  ["a non-owner with admin scopes", () => viewerOf(bob, defaultScopeCatalogue.grantedAtLogin("admin"))],
  // Step-up rules (RFC 9470) pass only for a recent, strong authentication.
  [
    "the owner, just re-authenticated with a passkey",
    () => viewerOf(alice, defaultScopeCatalogue.grantedAtLogin("user"), justReauthenticatedWithPasskey()),
  ],
  [
    "an admin-scoped owner, just re-authenticated with a passkey",
    () => viewerOf(alice, defaultScopeCatalogue.grantedAtLogin("admin"), justReauthenticatedWithPasskey()),
  ],
];

class ResolverReached extends Error {
  readonly code = "RESOLVER_REACHED";
}

/**
 * Services for mutations: they must not change what the next run sees, so each call answers a fixed
 * value (for payloads reachable only through a mutation) or throws ResolverReached, which shows the
 * permission layer let the call through.
 */
function frozenServices(): Services {
  const expiresAt = new Date("2030-01-01T00:00:00.000Z");
  const payload: AuthPayloadModel = {
    accessToken: "access",
    tokenType: "Bearer",
    expiresAt,
    scopes: ["notes:read"],
    refreshToken: "refresh",
    session: aliceSession,
    user: aliceModel,
  };
  const answers: Record<string, unknown> = {
    "auth.register": payload,
    "auth.login": payload,
    "auth.refresh": payload,
    "auth.narrowToken": { accessToken: "narrow", tokenType: "Bearer", expiresAt, scopes: ["notes:read"] },
    "keys.rotate": { kid: "kid-next", activatesAt: expiresAt },
    "notes.create": aliceNote,
    "notes.update": aliceNote,
  };
  const service = (name: string) =>
    new Proxy(
      {},
      {
        get: (_target, method) => async () => {
          const key = `${name}.${String(method)}`;
          if (Object.hasOwn(answers, key)) return answers[key];
          throw new ResolverReached(key);
        },
      },
    );
  return {
    users: t.server.services.users,
    sessions: service("sessions"),
    auth: service("auth"),
    keys: service("keys"),
  } as unknown as Services;
}

function context(viewer: Viewer | null, mutation: boolean): GraphQLContext {
  const services = mutation ? frozenServices() : t.server.services;
  const users = new DataLoader((ids: readonly string[]) => t.server.services.users.findManyByIds(ids));
  return {
    viewer,
    proofJkt: null,
    client: { ip: null, userAgent: null },
    services,
    // A cookie is present, so `refresh` without an argument reaches its service.
    refreshCookie: { read: () => "refresh-cookie", set: () => {}, clear: () => {} },
    loaders: { user: users },
    users,
    stepUp: { maxAgeSeconds: 300, clock: t.clock },
    events: httpEvents(new InProcessEventBus()),
    // A database no module was set up on: a notes mutation fails after its permission check, as
    // the frozen services do, so neither layer writes.
    database: mutation ? ({ provider: "sqlite" } as never) : t.server.database.driver,
    clock: t.clock,
  };
}

interface Outcome {
  data: unknown;
  errors: { path: readonly (string | number)[] | undefined; error: unknown }[];
}

async function run(
  schema: GraphQLSchema,
  document: string,
  viewer: Viewer | null,
  variableValues: Record<string, unknown> = {},
): Promise<Outcome> {
  const result = (await execute({
    schema,
    document: parse(document),
    variableValues,
    contextValue: context(viewer, document.startsWith("mutation")),
  })) as ExecutionResult;
  return {
    data: result.data,
    errors: (result.errors ?? []).map((e) => ({
      path: e.path,
      error: e.originalError && "code" in e.originalError ? { ...e.originalError } : e.message,
    })),
  };
}

function at(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** What happened to the operation's field: refused by the permission layer, reached, or never reached. */
function verdict(outcome: Outcome, op: FieldOperation): "refused" | "allowed" | "unreached" {
  const here = outcome.errors.find((e) => JSON.stringify(e.path) === JSON.stringify(op.path));
  const code = here && typeof here.error === "object" ? (here.error as { code?: unknown }).code : undefined;
  if (code === "UNAUTHENTICATED" || code === "FORBIDDEN") return "refused";
  // A root field is always reached; a nested one when its parent object is in the answer.
  if (op.parentPath.length === 0) return "allowed";
  const parent = at(outcome.data, op.parentPath);
  return parent === null || parent === undefined ? "unreached" : "allowed";
}

const rules = new Map<string, FieldRule<never>>(
  Object.entries(demoPermissions).flatMap(([type, fields]) =>
    Object.entries(fields).map(([name, rule]) => [`${type}.${name}`, rule as FieldRule<never>] as const),
  ),
);

// Operations that combine fields: contextual decisions shared across fields of one request, and
// the subject rule (an anonymous login answer shows the account its own email).
const MIXED = [
  `query { note(id: "NOTE") { id title body owner { id email } } }`,
  "query { notes(first: 10) { edges { node { title body owner { email } } } } }",
  `query { user(id: "USER") { email notes(first: 5) { edges { node { body } } } } }`,
  "query { users(first: 10) { edges { node { id email } } } me { id email } }",
  "query { sessions { id current } }",
  `mutation { login(input: { email: "a@example.com", password: "p" }) { scopes user { id email } } }`,
];

describe("fast path and graphql-shield agree on every field of the map", () => {
  const enforced = buildSchema({ modules: DEMO_MODULES });
  const naive = buildSchema({ modules: DEMO_MODULES, authorization: "naive" });
  const operations = () =>
    fieldOperations(enforced, (type) => ({ Note: aliceNote.id, User: alice.id })[type]);

  it("generates an operation for every field of the schema, each with a rule", () => {
    const generated = operations().map((op) => op.field);
    const accounted = [...generated, ...Object.keys(NOT_GENERATED)].sort();
    expect(accounted).toEqual(schemaFields(enforced));
    expect([...rules.keys()].sort()).toEqual(accounted);
    for (const field of Object.keys(NOT_GENERATED)) expect(generated).not.toContain(field);
  });

  it("covers every rule kind the map uses", () => {
    for (const rule of rules.values()) expect(Object.keys(RULE_KINDS)).toContain(rule.kind);
  });

  it.each(VIEWERS)("identical data and errors for %s", async (_name, viewer) => {
    for (const op of operations()) {
      const fast = await run(enforced, op.document, viewer(), op.variables);
      const reference = await run(naive, op.document, viewer(), op.variables);
      expect(fast, `${op.field}: ${op.document}`).toEqual(reference);
    }
  });

  it.each(VIEWERS)("identical answers to combined operations for %s", async (_name, viewer) => {
    for (const query of MIXED) {
      const document = query.replace("NOTE", aliceNote.id).replace("USER", alice.id);
      expect(await run(enforced, document, viewer()), document).toEqual(await run(naive, document, viewer()));
    }
  });

  it("is not vacuous: every field is reached, and each decided field both allows and refuses", async () => {
    const problems: string[] = [];
    for (const op of operations()) {
      const verdicts = new Set<string>();
      for (const [, viewer] of VIEWERS)
        verdicts.add(verdict(await run(enforced, op.document, viewer(), op.variables), op));
      const kind = rules.get(op.field)!.kind;
      if (!verdicts.has("allowed")) problems.push(`${op.field} (${kind}) is allowed for no viewer`);
      if (RULE_KINDS[kind].decides && !verdicts.has("refused")) {
        problems.push(`${op.field} (${kind}) is refused to no viewer`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the subject rule shows an anonymous login answer its own account's email", async () => {
    const document = MIXED.at(-1)!;
    const outcome = await run(enforced, document, null);
    expect(outcome.errors).toEqual([]);
    expect(at(outcome.data, ["login", "user", "email"])).toBe(alice.email);
  });
});
