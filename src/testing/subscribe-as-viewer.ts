import DataLoader from "dataloader";
import { type ExecutionResult, GraphQLError, type GraphQLSchema, parse, validate } from "graphql";
import { type Viewer, viewerOf } from "../auth/viewer.js";
import { systemClock } from "../clock.js";
import { AppError } from "../errors/app-error.js";
import { ConnectionStreams, InProcessEventBus } from "../events/index.js";
import type { GraphQLContext, Services } from "../graphql/context.js";
import type { HoldfastModule } from "../graphql/module-definition.js";
import type { HoldfastDatabase } from "../graphql/public-context.js";
import { buildSchema } from "../graphql/schema.js";
import { subscribePerEvent } from "../server/subscriptions/subscription-execution.js";
import type { UserModel } from "../users/user-model.js";

export interface TestViewer {
  readonly scopes: readonly string[];
  readonly userId?: string;
  readonly sessionId?: string;
}

export interface ViewerSubscription {
  /**
   * Publishes to a topic of the bus this subscription listens on, as a module's write would
   * (`context.events.publish`): the payload arrives as JSON, Dates as ISO strings.
   */
  publish(topic: string, payload: unknown): void;
  /** The next result: data and per-field errors with `extensions.code`, as a client would get it. */
  next(): Promise<ExecutionResult>;
  /** The result of starting the stream when it was refused (no notes:read, anonymous), else null. */
  readonly refused: ExecutionResult | null;
  close(): Promise<void>;
}

/**
 * Runs a subscription as a viewer with the given scopes, in process and without a server: the real
 * schema and permission map, each event authorized as the server does it (per event, with the
 * viewer). For resolver and permission tests of live data:
 *
 *   const sub = await subscribeAsViewer({ viewer: { scopes: ["notes:read"] }, query: "subscription { noteEvents { kind note { body } } }" });
 *   sub.publish("notes", { kind: "CREATED", noteId: note.id, note });
 *   expect((await sub.next()).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
 */
/** No database behind this stream: a resolver that reaches for one learns it at once. */
const NO_DATABASE = new Proxy({} as HoldfastDatabase, {
  get(_target, property) {
    if (property === "then") return undefined;
    throw new Error("subscribeAsViewer has no database: pass `database` for resolvers that read one");
  },
});

export async function subscribeAsViewer(options: {
  viewer: TestViewer | null;
  query: string;
  variables?: Record<string, unknown>;
  /** Resolves `owner` fields; default: users named by id only. */
  users?: (ids: readonly string[]) => Promise<(UserModel | null)[]>;
  /** The modules whose subscription fields the query names (composed with the core). */
  modules?: readonly HoldfastModule[];
  /** A schema already composed, instead of `modules`. */
  schema?: GraphQLSchema;
  /** The database a module's resolvers share; none by default (a stream that reads it fails). */
  database?: HoldfastDatabase;
}): Promise<ViewerSubscription> {
  const schema = options.schema ?? buildSchema({ modules: options.modules ?? [] });
  const bus = new InProcessEventBus();
  // No socket to fall behind on: a generous queue, and an overflow that just ends the streams.
  const streams: ConnectionStreams = new ConnectionStreams(bus, {
    maxQueuedEvents: 10_000,
    onOverflow: () => streams.endAll(),
  });
  const viewer: Viewer | null = options.viewer
    ? viewerOf({
        userId: options.viewer.userId ?? "viewer",
        sessionId: options.viewer.sessionId ?? "test-session",
        scopes: new Set(options.viewer.scopes),
        jkt: null,
        expiresAt: Number.MAX_SAFE_INTEGER,
        tokenId: "test-token",
        // No step-up claims: a subscription never needs a recent authentication.
        authentication: null,
      })
    : null;
  const users =
    options.users ??
    (async (ids: readonly string[]) =>
      ids.map(
        (id) =>
          ({
            id,
            displayName: id,
            email: `${id}@example.com`,
            role: "user",
            createdAt: new Date(0),
          }) as never,
      ));
  const loader = new DataLoader(users);
  const contextFor = (): GraphQLContext => ({
    viewer,
    proofJkt: null,
    client: { ip: "127.0.0.1", userAgent: "subscribe-as-viewer" },
    services: { users: { findManyByIds: users } } as unknown as Services,
    refreshCookie: { read: () => null, set: () => {}, clear: () => {} },
    loaders: { user: loader },
    users: loader,
    stepUp: { maxAgeSeconds: 300, clock: systemClock },
    clock: systemClock,
    database: options.database ?? NO_DATABASE,
    events: streams.events,
  });
  const document = parse(options.query);
  const invalid = validate(schema, document);
  if (invalid.length > 0) throw new GraphQLError(invalid.map((e) => e.message).join("; "));
  const args = {
    schema,
    document,
    contextValue: contextFor(),
    ...(options.variables ? { variableValues: options.variables } : {}),
  };
  // Same entry as the WebSocket server: subscribe (permission checked at start), then per event.
  const started = await subscribePerEvent(args, contextFor);
  if (!(Symbol.asyncIterator in started)) {
    return {
      publish: () => {},
      next: async () => withCodes(started),
      refused: withCodes(started),
      close: async () => {},
    };
  }
  return {
    publish: (topic, payload) => bus.publish(topic, payload),
    next: async () => {
      const result = await started.next();
      if (result.done) throw new Error("the subscription ended");
      return withCodes(result.value);
    },
    refused: null,
    close: async () => {
      await started.return?.();
    },
  };
}

/**
 * Typed errors as a client reads them: `extensions.code` and the published fields (`reason`,
 * `requiredScopes`, …), which the server's formatError adds on the wire; `originalError` stays.
 */
function withCodes(result: ExecutionResult): ExecutionResult {
  if (!result.errors) return result;
  const errors = result.errors.map((error) => {
    const original = error.originalError;
    if (!(original instanceof AppError) || error.extensions.code !== undefined) return error;
    return new GraphQLError(error.message, {
      ...(error.nodes ? { nodes: error.nodes } : {}),
      ...(error.path ? { path: error.path } : {}),
      originalError: original,
      extensions: { ...error.extensions, code: original.code, ...original.publicExtensions() },
    });
  });
  return { ...result, errors };
}
