import { type Client, createClient } from "graphql-ws";
import type { ClientCore } from "./client-core.js";
import type { GraphQLErrorLike } from "./holdfast-client-error.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import { SESSION_ENDING_REASONS } from "./refresher.js";
import type { TokenState } from "./session-holder.js";
import type { TypedDocument } from "./typed-document.js";

/**
 * What a subscription delivers: one event's data, with per-field errors beside it as in a query
 * (the same rule as `request()`: a partial event is an event; an event without data ends the
 * subscription through `error`).
 */
export interface SubscriptionEvent<TData> {
  readonly data: TData;
  readonly errors?: readonly GraphQLErrorLike[];
}

export interface SubscriptionHandlers<TData, TVariables> {
  readonly variables?: TVariables;
  next(event: SubscriptionEvent<TData>): void;
  /**
   * The stream ended for good: SESSION_LOST (with the reason: the server's `token_revoked`, …, or
   * the one this client learnt first), an event without data (its first error's code), or another
   * failure.
   */
  error?(error: HoldfastClientError): void;
  /** The stream ended cleanly: the server completed it, or this client logged out or was destroyed. */
  complete?(): void;
}

/** The WebSocket constructor: the browser's, or `ws`'s in Node (`import { WebSocket } from "ws"`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export interface LiveOptions {
  /** Default: `globalThis.WebSocket` (browsers, Node 22+). */
  readonly webSocket?: WebSocketConstructor;
}

interface OpenSocket {
  readonly readyState: number;
  send(data: string): void;
}

/**
 * `subscribe()` over GraphQL-over-WebSocket (graphql-ws), on the client's session:
 * - connection_init carries the access token and, for a bound token, a DPoP proof for GET of the
 *   endpoint (DESIGN.md, Subscriptions);
 * - renewal in band: whenever the session's token changes (any refresh, here or in another tab), a
 *   `ping` carries the new token and proof; while subscriptions run, a timer refreshes ahead of
 *   expiry even if the app makes no requests, so the connection never reaches `exp`;
 * - on close 4401 for a token (`token_expired`, `invalid_token`, …) one refresh and reconnect; when
 *   that fails, or when the session itself ended (`token_revoked`), `error` gets SESSION_LOST with
 *   the server's reason.
 */
export function liveSubscriptions(core: ClientCore, options: LiveOptions = {}) {
  const url = core.transport.endpoint.replace(/^http/, "ws");
  let client: Client | null = null;
  let socket: OpenSocket | null = null;
  /**
   * The token the server holds for the connection: sent at init, or a renewal it answered. A renewal
   * still in flight is not held yet: a 4401 `token_expired` that crosses it is about the token before.
   */
  let held: TokenState | null = null;
  /** Renewals sent on this connection and not yet answered, oldest first. */
  let renewals: TokenState[] = [];
  const latestSent = () => renewals.at(-1) ?? held;
  let active = 0;
  let renewTimer: unknown = null;
  /** How to end each running subscription from outside: cleanly (`null`) or with an error. */
  const running = new Set<(error: HoldfastClientError | null) => void>();

  const payloadFor = async (token: TokenState) => ({
    authorization: `${token.tokenType} ${token.accessToken}`,
    ...(token.tokenType === "DPoP"
      ? {
          dpop: await core.transport.proof({
            htm: "GET",
            htu: core.transport.endpoint,
            accessToken: token.accessToken,
          }),
        }
      : {}),
  });

  function scheduleRenewal(): void {
    if (renewTimer !== null) core.timers.clearTimeout(renewTimer);
    renewTimer = null;
    const token = core.session.current;
    if (!token || active === 0) return;
    const delay = Math.max(0, token.refreshAtMs - core.clock.now());
    renewTimer = core.timers.setTimeout(() => {
      renewTimer = null;
      // Refreshes when due; the new token reaches the socket through onChange below.
      core.tokenForRequest().catch(() => {});
    }, delay);
  }

  /**
   * Ends every running subscription here, before the socket goes: their handlers hear `complete`
   * (logout, destroy) or `error` (the session was lost), never graphql-ws's "Terminated".
   */
  function endAll(error: HoldfastClientError | null): void {
    for (const end of [...running]) end(error);
    client?.terminate();
    client = null;
    held = null;
    renewals = [];
  }

  const stopListening = core.session.onChange((state, _fromOtherHolder, endReason) => {
    if (!state) {
      // The session ended: the server closes the connection too; do not wait for it.
      const clean = endReason === "logged_out" || endReason === "destroyed";
      endAll(
        clean ? null : new HoldfastClientError("SESSION_LOST", "The session ended", { reason: endReason }),
      );
      return;
    }
    const sent = latestSent();
    if (socket && sent && state.sessionId === sent.sessionId && state.accessToken !== sent.accessToken) {
      const target = socket;
      renewals.push(state);
      void payloadFor(state).then((payload) => {
        if (target.readyState === 1) target.send(JSON.stringify({ type: "ping", payload }));
      });
    }
    scheduleRenewal();
  });
  // A logout here ends the subscriptions before the server's revocation closes them (4401).
  core.onLogoutStart(() => endAll(null));
  core.onDestroy(() => {
    stopListening();
    endAll(null);
    if (renewTimer !== null) core.timers.clearTimeout(renewTimer);
  });

  function connection(): Client {
    if (client) return client;
    const impl = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl)
      throw new TypeError("subscribe() needs a WebSocket: pass `webSocket` (the `ws` package in Node)");
    const created = createClient({
      url,
      webSocketImpl: impl,
      lazy: true,
      // Reconnects are decided here (4401: one refresh first), not by graphql-ws's retry loop.
      retryAttempts: 0,
      connectionParams: async () => {
        const token = await core.tokenForRequest();
        held = token;
        renewals = [];
        return token ? await payloadFor(token) : {};
      },
      on: {
        connected: (raw) => {
          socket = raw as OpenSocket;
        },
        // The server answers a renewal with the new token's expiry: from then on it holds that token.
        pong: (received, payload) => {
          const expiresAt = received ? Date.parse(String(payload?.expiresAt)) : Number.NaN;
          const index = renewals.findIndex((token) => token.expiresAt.getTime() === expiresAt);
          if (index < 0) return;
          held = renewals[index] ?? held;
          renewals = renewals.slice(index + 1);
        },
        closed: () => {
          socket = null;
          if (client === created) client = null;
        },
      },
    });
    client = created;
    return created;
  }

  /**
   * A 4401 that a new token may cure (expired, invalid): refresh once. An expiry is about the token
   * the server held, so when a fresh renewal crossed the close the client reconnects with it and does
   * not refresh again; any other reason may be about the renewal itself, which a refresh replaces.
   */
  async function recover(reason: string): Promise<boolean> {
    const stale = (reason === "token_expired" ? held : latestSent()) ?? core.session.current;
    if (!stale) return false;
    try {
      await core.refresher.refresh(stale, "replace");
      return true;
    } catch {
      return false;
    }
  }

  function subscribe<TData, TVariables>(
    document: TypedDocument<TData, TVariables>,
    handlers: SubscriptionHandlers<TData, TVariables>,
  ): () => void {
    core.assertAlive();
    let stopped = false;
    let dispose: () => void = () => {};
    let retried = false;
    active += 1;
    scheduleRenewal();

    const finish = () => {
      if (stopped) return;
      stopped = true;
      running.delete(end);
      active -= 1;
      scheduleRenewal();
    };
    function end(error: HoldfastClientError | null): void {
      if (stopped) return;
      finish();
      if (error) handlers.error?.(error);
      else handlers.complete?.();
    }
    running.add(end);

    const start = () => {
      dispose = connection().subscribe(
        {
          query: document.query,
          ...(document.operationName ? { operationName: document.operationName } : {}),
          ...(handlers.variables ? { variables: handlers.variables as Record<string, unknown> } : {}),
        },
        {
          next: (result) => {
            if (stopped) return;
            retried = false;
            const errors = result.errors as readonly GraphQLErrorLike[] | undefined;
            if (result.data == null) {
              // Nothing to show: as `request()` throws, the subscription ends with the first error.
              end(toClientError(errors ?? []));
              dispose();
              return;
            }
            handlers.next({ data: result.data as TData, ...(errors?.length ? { errors } : {}) });
          },
          complete: () => {
            finish();
            handlers.complete?.();
          },
          error: (error) => {
            if (stopped) return;
            const close = error as { code?: number; reason?: string };
            const reason = close.reason || "token_revoked";
            // The session itself ended (revoked, reused): no token can cure that, so no refresh. The
            // client's session state learns it from its next request, as for any HTTP call.
            if (close.code === 4401 && !retried && !SESSION_ENDING_REASONS.has(reason)) {
              retried = true;
              void recover(reason).then((ok) => {
                if (stopped) return;
                if (ok) return start();
                finish();
                handlers.error?.(new HoldfastClientError("SESSION_LOST", "The session ended", { reason }));
              });
              return;
            }
            finish();
            handlers.error?.(toClientError(error));
          },
        },
      );
    };
    start();
    return () => {
      finish();
      dispose();
    };
  }

  return { subscribe };
}

function toClientError(error: unknown): HoldfastClientError {
  if (error instanceof HoldfastClientError) return error;
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === "number") {
    return new HoldfastClientError(
      close.code === 4401 ? "SESSION_LOST" : "NETWORK_ERROR",
      `The connection closed (${close.code})`,
      { reason: close.reason || undefined, retryable: close.code !== 4401 && close.code !== 4403 },
    );
  }
  if (Array.isArray(error)) {
    const errors = error as GraphQLErrorLike[];
    const first = errors[0]?.extensions;
    return new HoldfastClientError(first?.code ?? "BAD_REQUEST", errors[0]?.message ?? "Refused", {
      reason: first?.reason,
      errors,
    });
  }
  return new HoldfastClientError("NETWORK_ERROR", "The connection failed", { retryable: true, cause: error });
}
