import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import proxyAddr from "@fastify/proxy-addr";
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import { CloseCode, handleProtocols, makeServer } from "graphql-ws";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import { type Authentication, authenticate } from "../../auth/authenticate.js";
import type { RevocationSet } from "../../auth/sessions/revocation.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import { AppError, UnauthenticatedError } from "../../errors/app-error.js";
import type { GraphQLContext, Services } from "../../graphql/context.js";
import type { NoteEventBus } from "../../notes/note-events.js";
import { browserOrigins } from "../security/cors.js";
import { withoutSuggestions } from "../security/hide-suggestions.js";
import { ConnectionRegistry } from "./connection-registry.js";
import { LiveConnection } from "./live-connection.js";
import { subscribePerEvent } from "./subscription-execution.js";

export interface SubscriptionServerDeps {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly config: Pick<Config, "env" | "server" | "http" | "subscriptions" | "stepUp">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What HTTP authentication uses (authenticate.ts): the same verifier, proofs and revocation set. */
  readonly auth: Parameters<typeof authenticate>[1];
  readonly revocations: RevocationSet;
  readonly noteEvents: NoteEventBus;
  readonly services: Services;
  /** The HTTP validation rules and parse options (depth, cost, aliases, directives, tokens). */
  readonly validationRules: readonly ValidationRule[];
  readonly parseOptions: { maxTokens: number };
  /** The HTTP formatError: typed errors keep code and reason, the rest is masked. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The current DPoP nonce, or null when nonces are off: sent on the upgrade answer too. */
  readonly dpopNonce: () => string | null;
}

export interface SubscriptionServer {
  /** Open connections on this instance. */
  readonly size: number;
  /** Subscriptions streaming events on this instance (tests wait for one to be running). */
  readonly streams: number;
  /** Who each open connection speaks for now: its session, its token's expiry (null: anonymous), its streams. */
  connections(): { sessionId: string | null; expiresAt: Date | null; streams: number }[];
  /** Closes every connection with 1001 (going away), so clients move to another instance. */
  close(): Promise<void>;
}

/** How often expiry (by the injected clock) and the revocation set are checked: well within 1 s. */
const SWEEP_MS = 250;
/** WebSocket ping: a peer that vanished without a close is dropped after two intervals. */
const KEEPALIVE_MS = 12_000;
/** How long closing waits for peers to answer the 1001 before dropping them. */
const CLOSE_WAIT_MS = 1000;

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol graphql-transport-ws) on the HTTP server's own
 * port and path. The upgrade is ours to accept (`noServer`), as Apollo's and graphql-ws's Node
 * recipes do, so Origin, path and the per-address limit are refused with an HTTP status before a
 * WebSocket exists. graphql-ws's protocol core (`makeServer`) runs over our socket adapter rather
 * than its `useServer`: a pong must not echo a renewal's token back, and a send must see the
 * socket's buffer (slow consumers).
 *
 * Authorization follows the token: the connection_init payload is authenticated exactly as an
 * HTTP request (authenticate.ts); every event is authorized with the viewer at delivery; the
 * connection closes with 4401 when its session is revoked (any cause, any instance: the
 * revocation set is fed by the bus and by polling) or its token expires without renewal.
 */
export function attachSubscriptions(deps: SubscriptionServerDeps): SubscriptionServer {
  const { config, logger, clock } = deps;
  const limits = config.subscriptions;
  const registry = new ConnectionRegistry(clock);
  const allowedOrigins = browserOrigins(config);
  const trust =
    config.http.trustProxy === false ? () => false : proxyAddr.compile([...config.http.trustProxy]);
  const connectionOf = new WeakMap<object, LiveConnection>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    handleProtocols: (protocols) => handleProtocols(protocols) || false,
    // Compression would let a small frame inflate into a large message, and costs CPU per event.
    perMessageDeflate: false,
  });
  wss.on("headers", (headers) => {
    const nonce = deps.dpopNonce();
    if (nonce) headers.push(`DPoP-Nonce: ${nonce}`);
  });

  const authenticatePayload = (payload: unknown): Promise<Authentication> => {
    const params = (typeof payload === "object" && payload !== null ? payload : {}) as Record<
      string,
      unknown
    >;
    // Keys are read as HTTP header names, case-insensitive: a client that forwards its headers
    // (`Authorization`) is understood as well.
    const values = (name: string) =>
      Object.entries(params)
        .filter(([key]) => key.toLowerCase() === name)
        .map(([, value]) => value);
    const authorization = values("authorization");
    const dpop = values("dpop");
    if ([...authorization, ...dpop].some((v) => typeof v !== "string")) {
      return Promise.reject(
        new UnauthenticatedError("invalid_token", "authorization and dpop must be strings"),
      );
    }
    return authenticate(
      {
        // More than one of either is refused by authenticate, as duplicate HTTP headers are.
        authorization: authorization as string[],
        dpop: dpop as string[],
        // RFC 9449 §4.2: the proof names the request that carries it; here, the upgrade's GET of
        // the endpoint's HTTP URL (DESIGN.md, Subscriptions).
        method: "GET",
        tokenInQuery: false,
      },
      deps.auth,
    );
  };

  /** An authentication failure's close: 4401 with the HTTP reason; anything unexpected, 1011. */
  const refuse = (connection: LiveConnection, error: unknown) => {
    if (error instanceof UnauthenticatedError && error.reason) connection.close(4401, error.reason);
    else if (error instanceof AppError) connection.close(1011, error.reason ?? "unavailable");
    else {
      logger.error({ err: error }, "subscription authentication failed unexpectedly");
      connection.close(1011, "internal_error");
    }
  };

  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => deps.formatError(error.toJSON(), error));

  const protocol = makeServer<Record<string, unknown> | undefined, { connection: LiveConnection }>({
    schema: deps.schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect: async (ctx) => {
      const { connection } = ctx.extra;
      try {
        const authentication = await authenticatePayload(ctx.connectionParams);
        const sessionId = authentication.viewer?.sessionId;
        if (sessionId && registry.sessionCount(sessionId) >= limits.connectionsPerSession) {
          connection.close(1008, "too_many_connections");
          return false;
        }
        if (connection.isClosed) return false;
        connection.authenticated(authentication);
        const expiresAt = authentication.viewer ? new Date(authentication.viewer.expiresAt * 1000) : null;
        return expiresAt ? { expiresAt: expiresAt.toISOString() } : true;
      } catch (error) {
        refuse(connection, error);
        return false;
      }
    },
    onSubscribe: (ctx, _id, payload) => {
      const { connection } = ctx.extra;
      // The entry for this id is already in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > limits.perConnection) {
        return [
          new GraphQLError(`At most ${limits.perConnection} subscriptions per connection`, {
            extensions: { code: "TOO_MANY_REQUESTS", reason: "too_many_subscriptions" },
          }),
        ];
      }
      let document: DocumentNode;
      try {
        document = parse(payload.query, deps.parseOptions);
      } catch (error) {
        const message = error instanceof Error ? error.message : "Syntax error";
        return [
          new GraphQLError(message, {
            extensions: {
              code: "GRAPHQL_PARSE_FAILED",
              ...(/more than \d+ tokens/.test(message) ? { reason: "too_many_tokens" } : {}),
            },
          }),
        ];
      }
      const invalid = validate(deps.schema, document, [...specifiedRules, ...deps.validationRules]);
      if (invalid.length > 0) {
        // As over HTTP: production keeps its schema's names out of "Did you mean …".
        const dev = config.env === "development";
        return invalid.map(
          (error) =>
            new GraphQLError(dev ? error.message : withoutSuggestions(error.message), {
              ...(error.nodes ? { nodes: error.nodes } : {}),
              extensions: { ...error.extensions, code: "GRAPHQL_VALIDATION_FAILED" },
            }),
        );
      }
      const operation = getOperationAST(document, payload.operationName);
      if (operation && operation.operation !== "subscription") {
        // Queries and mutations have one home, HTTP, with its cookies, limits and logs.
        return [
          new GraphQLError("Queries and mutations are served over HTTP; use WebSocket for subscriptions", {
            extensions: { code: "BAD_USER_INPUT", reason: "subscriptions_only" },
          }),
        ];
      }
      const contextValue = connection.context();
      connectionOf.set(contextValue, connection);
      return {
        schema: deps.schema,
        document,
        ...(payload.operationName ? { operationName: payload.operationName } : {}),
        ...(payload.variables ? { variableValues: payload.variables } : {}),
        contextValue,
      };
    },
    subscribe: (args) => {
      const connection = connectionOf.get(args.contextValue as GraphQLContext);
      if (!connection) throw new Error("subscription without a connection");
      return subscribePerEvent(args, (event) => connection.context(event));
    },
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors ? { data: result.data ?? null, errors: format(result.errors) } : undefined,
    onError: (_ctx, _id, _payload, errors) => format(errors),
  });

  const onConnection = (socket: WebSocket, request: IncomingMessage, address: string) => {
    const userAgent = request.headers["user-agent"]?.slice(0, 512) ?? null;
    const connection = new LiveConnection(socket, address, userAgent, {
      registry,
      services: deps.services,
      noteEvents: deps.noteEvents,
      stepUp: { maxAgeSeconds: config.stepUp.maxAgeSeconds, clock },
      maxQueuedEvents: limits.maxQueuedEvents,
      maxBufferedBytes: limits.maxBufferedBytes,
    });
    registry.add(connection);
    let alive = true;
    socket.on("pong", () => {
      alive = true;
    });
    keepAlive.set(socket, () => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    });
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) => connection.send(data),
        close: (code, reason) => connection.close(code ?? 1000, reason ?? ""),
        onMessage: (handle) =>
          socket.on("message", (data, isBinary) => {
            handle(isBinary ? "" : data.toString()).catch((error: unknown) => {
              logger.error({ err: error }, "subscription message failed");
              connection.close(CloseCode.InternalServerError, "internal_error");
            });
          }),
        // Renewal in band (DESIGN.md, Subscriptions): a ping carrying a token replaces the viewer.
        onPing: async (payload) => {
          if (!payload || !("authorization" in payload)) {
            await connection.send(JSON.stringify({ type: "pong" }));
            return;
          }
          let renewed: Authentication;
          try {
            renewed = await authenticatePayload(payload);
          } catch (error) {
            refuse(connection, error);
            return;
          }
          if (!renewed.viewer || renewed.viewer.sessionId !== connection.viewer?.sessionId) {
            connection.close(4403, "session_mismatch");
            return;
          }
          connection.authenticated(renewed);
          const expiresAt = new Date(renewed.viewer.expiresAt * 1000).toISOString();
          await connection.send(JSON.stringify({ type: "pong", payload: { expiresAt } }));
        },
      },
      { connection },
    );
    socket.once("close", (code, reason) => {
      keepAlive.delete(socket);
      connection.ended();
      void closed(code, reason.toString());
    });
    socket.on("error", (error) => logger.debug({ err: { message: error.message } }, "websocket error"));
  };

  const keepAlive = new Map<WebSocket, () => void>();
  const ping = setInterval(() => {
    for (const beat of keepAlive.values()) beat();
  }, KEEPALIVE_MS);
  ping.unref();

  const sweep = setInterval(() => registry.sweep((sessionId) => deps.revocations.has(sessionId)), SWEEP_MS);
  sweep.unref();
  deps.revocations.onAdd((sessionId) => {
    if (deps.revocations.has(sessionId)) registry.sessionEnded(sessionId, "token_revoked");
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== config.server.graphqlPath) return reject(socket, 404, "Not Found");
    if (closing) return reject(socket, 503, "Service Unavailable");
    // As over HTTP: a token in the URL ends up in logs and histories (RFC 6750 §2.3).
    if (/[?&](access_token|token)=/i.test(url.search)) return reject(socket, 400, "Bad Request");
    // Cross-site WebSocket hijacking: a browser always sends Origin; one we do not serve is refused.
    // Clients without an Origin (servers, CLIs) are not browsers and may connect.
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return reject(socket, 403, "Forbidden");
    const address = proxyAddr(request, trust);
    if (registry.addressCount(address) >= limits.connectionsPerAddress)
      return reject(socket, 429, "Too Many Requests");
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request, address));
  };
  deps.httpServer.on("upgrade", onUpgrade);

  return {
    get size() {
      return registry.size;
    },
    connections() {
      return [...registry.connections()].map((c) => ({
        sessionId: c.viewer?.sessionId ?? null,
        expiresAt: c.viewer ? new Date(c.viewer.expiresAt * 1000) : null,
        streams: c.streamCount,
      }));
    },
    get streams() {
      let count = 0;
      for (const connection of registry.connections()) count += connection.streamCount;
      return count;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweep);
      clearInterval(ping);
      const sockets = [...registry.connections()].map((c) => c.socket);
      for (const connection of [...registry.connections()]) connection.close(1001, "server_shutting_down");
      await Promise.race([
        Promise.all(
          sockets.map(
            (socket) =>
              new Promise<void>((resolve) => {
                if (socket.readyState === socket.CLOSED) resolve();
                else socket.once("close", () => resolve());
              }),
          ),
        ),
        new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
      ]);
      for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
      deps.httpServer.off("upgrade", onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
