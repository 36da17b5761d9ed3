import type { ClientCore } from "./client-core.js";
import type { GraphQLErrorLike } from "./holdfast-client-error.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import { type LiveOptions, liveConnection } from "./live-connection.js";
import { SESSION_ENDING_REASONS } from "./refresher.js";
import type { TypedDocument } from "./typed-document.js";

// Public from here as before the connection moved to its own file.
export type { LiveOptions, WebSocketConstructor } from "./live-connection.js";

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
  const live = liveConnection(core, options);
  let active = 0;
  let renewTimer: unknown = null;
  /** How to end each running subscription from outside: cleanly (`null`) or with an error. */
  const running = new Set<(error: HoldfastClientError | null) => void>();

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
    live.terminate();
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
    live.renew(state);
    scheduleRenewal();
  });
  // A logout here ends the subscriptions before the server's revocation closes them (4401).
  core.onLogoutStart(() => endAll(null));
  core.onDestroy(() => {
    stopListening();
    endAll(null);
    if (renewTimer !== null) core.timers.clearTimeout(renewTimer);
  });

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
      dispose = live.client().subscribe(
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
              void live.recover(reason).then((ok) => {
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
