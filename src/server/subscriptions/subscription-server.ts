import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import proxyAddr from "@fastify/proxy-addr";
import type { GraphQLFormattedError, GraphQLSchema, ValidationRule } from "graphql";
import { CloseCode, handleProtocols } from "graphql-ws";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import type { authenticate } from "../../auth/authenticate.js";
import type { RevocationSet } from "../../auth/sessions/revocation.js";
import { revokedTokenKey } from "../../auth/sessions/session-ending-rule.js";
import type { Viewer } from "../../auth/viewer.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { EventBus } from "../../events/index.js";
import type { GraphQLContext, Services } from "../../graphql/context.js";
import type { ComposedSchema } from "../../graphql/schema.js";
import type { RevocationFreshness } from "../revocation-freshness.js";
import { browserOrigins } from "../security/cors.js";
import { ConnectionRegistry } from "./connection-registry.js";
import { KeepAlive } from "./keep-alive.js";
import { LiveConnection } from "./live-connection.js";
import { createProtocol } from "./protocol.js";
import { answerPing } from "./renewal.js";
import { rejectUpgrade, upgradeRefusal } from "./upgrade-check.js";

export interface SubscriptionServerDeps {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly config: Pick<Config, "env" | "server" | "http" | "subscriptions" | "stepUp">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What HTTP authentication uses (authenticate.ts): the same verifier, proofs and revocation set. */
  readonly auth: Parameters<typeof authenticate>[1];
  readonly revocations: RevocationSet;
  /** Whether this instance can vouch for its revocation set: no event is delivered while it cannot. */
  readonly freshness: RevocationFreshness;
  /** Topic events for any module's subscriptions (context.events.subscribe). */
  readonly events: EventBus;
  readonly services: Services;
  /** The database modules share (HoldfastContext.database). */
  readonly database: GraphQLContext["database"];
  /** The HTTP validation rules and parse options (depth, cost, aliases, directives, tokens). */
  readonly validationRules: readonly ValidationRule[];
  readonly parseOptions: { maxTokens: number };
  /** The HTTP formatError: typed errors keep code and reason, the rest is masked. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The current DPoP nonce, or null when nonces are off: sent on the upgrade answer too. */
  readonly dpopNonce: () => string | null;
  /** How widely one rendering of an event may be shared (composeSchema); absent, none is shared. */
  readonly renderSharing?: ComposedSchema["renderSharing"];
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
/** WebSocket ping (keep-alive.ts). */
const KEEPALIVE_MS = 12_000;
/** How long closing waits for peers to answer the 1001 before dropping them. */
const CLOSE_WAIT_MS = 1000;

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol graphql-transport-ws) on the HTTP server's own
 * port and path. The upgrade is ours to accept (`noServer`), as Apollo's and graphql-ws's Node
 * recipes do, so Origin, path and the per-address limit are refused with an HTTP status before a
 * WebSocket exists (upgrade-check.ts). graphql-ws's protocol core (protocol.ts) runs over our
 * socket adapter rather than its `useServer`: a pong must not echo a renewal's token back
 * (renewal.ts), and a send must see the socket's buffer (slow consumers).
 *
 * Authorization follows the token: the connection_init payload is authenticated exactly as an
 * HTTP request (authenticate.ts); every event is authorized with the viewer at delivery; the
 * connection closes with 4401 when its session is revoked (any cause, any instance: the
 * revocation set is fed by the bus and by polling) or its token expires without renewal.
 * While this instance cannot vouch that its revocation set is complete (revocation-freshness.ts),
 * events are held, and past the staleness bound signed-in connections close 1013.
 * Which events exist is the modules' business: this server streams whatever topic a field's
 * `subscribe` asks `context.events` for, and knows no module.
 */
export function attachSubscriptions(deps: SubscriptionServerDeps): SubscriptionServer {
  const { config, logger, clock } = deps;
  const limits = config.subscriptions;
  const registry = new ConnectionRegistry(clock);
  const trust =
    config.http.trustProxy === false ? () => false : proxyAddr.compile([...config.http.trustProxy]);
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

  const protocol = createProtocol({ ...deps, registry });
  const keepAlive = new KeepAlive(KEEPALIVE_MS);

  const onConnection = (socket: WebSocket, request: IncomingMessage, address: string) => {
    const userAgent = request.headers["user-agent"]?.slice(0, 512) ?? null;
    const connection = new LiveConnection(socket, address, userAgent, {
      registry,
      services: deps.services,
      database: deps.database,
      events: deps.events,
      stepUp: { maxAgeSeconds: config.stepUp.maxAgeSeconds, clock },
      freshness: deps.freshness,
      budget: {
        costPerConnection: limits.costPerConnection,
        costPerUser: limits.costPerUser,
        maxEventBytes: limits.maxEventBytes,
      },
      maxQueuedEvents: limits.maxQueuedEvents,
      maxBufferedBytes: limits.maxBufferedBytes,
    });
    registry.add(connection);
    keepAlive.watch(socket);
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
        onPing: (payload) => answerPing(connection, payload, deps.auth, logger),
      },
      { connection },
    );
    socket.once("close", (code, reason) => {
      connection.ended();
      void closed(code, reason.toString());
    });
    socket.on("error", (error) => logger.debug({ err: { message: error.message } }, "websocket error"));
  };

  // A session ended, or the connection's own token revoked alone (by jti, the session-ending rule).
  const isRevoked = (viewer: Viewer) =>
    deps.revocations.has(viewer.sessionId) || deps.revocations.has(revokedTokenKey(viewer.tokenId));
  const sweep = setInterval(() => {
    registry.sweep(isRevoked);
    // Fail closed (issue 25): a session's logout may be unknown here, so its sockets go, retryably.
    if (deps.freshness.stale()) registry.closeSignedIn(1013, "revocation_state_stale");
    deps.freshness.settle();
  }, SWEEP_MS);
  sweep.unref();
  deps.revocations.onAdd((key) => {
    if (!deps.revocations.has(key)) return;
    // A single token is rare: finding its connections by a sweep beats indexing every token.
    if (key.startsWith(revokedTokenKey(""))) registry.sweep(isRevoked);
    else registry.sessionEnded(key, "token_revoked");
  });

  const upgradeRules = {
    graphqlPath: config.server.graphqlPath,
    closing: () => closing,
    allowedOrigins: browserOrigins(config),
    addressHasRoom: (address: string) => registry.addressCount(address) < limits.connectionsPerAddress,
  };
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const address = proxyAddr(request, trust);
    const refusal = upgradeRefusal(request, address, upgradeRules);
    if (refusal) return rejectUpgrade(socket, refusal);
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
      keepAlive.stop();
      await closeAll(registry);
      deps.httpServer.off("upgrade", onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Closes every connection with 1001 and waits (bounded) for the peers' answers, then drops the rest. */
async function closeAll(registry: ConnectionRegistry): Promise<void> {
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
}
