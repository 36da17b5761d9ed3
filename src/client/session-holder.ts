import type { SessionLostReason } from "./client-types.js";
import type { Exchange } from "./graphql-exchange.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import type { AuthPayloadFields } from "./operations.js";
import type { RefreshLock, SessionChannel, SessionMessage } from "./refresh-lock.js";
import { type RefreshAheadOptions, refreshSchedule } from "./refresh-schedule.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";

/** The session as this client holds it. Lives in memory only. */
export interface TokenState {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
  readonly expiresAt: Date;
  readonly localExpiresAtMs: number;
  readonly refreshAtMs: number;
  readonly scopes: readonly string[];
  readonly sessionId: string;
}

export interface SessionHolderOptions {
  readonly lock: RefreshLock;
  readonly refreshTokenStore: RefreshTokenStore | null;
  readonly refreshAhead: RefreshAheadOptions;
  readonly onSessionLost?: ((reason: SessionLostReason) => void) | undefined;
  readonly onLogout?: ((info: { readonly source: "this_client" | "other_holder" }) => void) | undefined;
}

/**
 * The one place the session's tokens live, and the news about them: what the other holders (tabs)
 * publish, and listeners in this client (the refresh timer, features that follow the token).
 */
export interface SessionHolder {
  readonly current: TokenState | null;
  /** Bumped whenever a session ends, so a refresh that finishes afterwards cannot revive it. */
  readonly epoch: number;
  readonly destroyed: boolean;
  /** Throws SESSION_LOST when the session `startEpoch` saw has ended (or the client was destroyed). */
  assertSame(startEpoch: number): void;
  set(next: TokenState): void;
  /** Forgets the session here only; `reason` goes to the change listeners. */
  clear(reason?: string): void;
  /** Turns an AuthPayload into the session, stores the new refresh token, tells the other holders. */
  adopt(payload: AuthPayloadFields, exchange: Exchange, startEpoch: number): Promise<TokenState>;
  /** The session ended without the user asking; `definitive` also drops the refresh token and tells the others. */
  lose(reason: string, definitive: boolean): Promise<void>;
  /** The user logged out here. */
  endLocally(sessionId: string | null): void;
  /**
   * Called with the new token (or null when the session ends) on every change, whether it came
   * from another holder (tab), and when it ended, why (`logged_out`, `replaced` by a new sign-in,
   * `destroyed`, or the reason the session was lost). Returns an unsubscribe.
   */
  onChange(listener: ChangeListener): () => void;
  destroy(): void;
}

export type ChangeListener = (state: TokenState | null, fromOtherHolder: boolean, endReason?: string) => void;

export function createSessionHolder(options: SessionHolderOptions): SessionHolder {
  const { refreshTokenStore } = options;
  // The session lives in this variable and nowhere else.
  let current: TokenState | null = null;
  let epoch = 0;
  let destroyed = false;
  const listeners = new Set<ChangeListener>();
  const channel: SessionChannel = options.lock.connect(onHolderMessage);

  function emit(state: TokenState | null, fromOtherHolder = false, endReason?: string): void {
    for (const listener of [...listeners]) notify(() => listener(state, fromOtherHolder, endReason));
  }

  function set(next: TokenState, fromOtherHolder = false): void {
    current = next;
    emit(next, fromOtherHolder);
  }

  function clear(reason = "replaced"): void {
    current = null;
    epoch += 1;
    emit(null, false, reason);
  }

  function assertSame(startEpoch: number): void {
    if (epoch !== startEpoch || destroyed) throw sessionEnded();
  }

  function onHolderMessage(message: SessionMessage): void {
    if (destroyed) return;
    switch (message.type) {
      case "tokens":
        set(
          {
            accessToken: message.accessToken,
            tokenType: message.tokenType,
            expiresAt: new Date(message.expiresAt),
            localExpiresAtMs: message.localExpiresAtMs,
            refreshAtMs: message.refreshAtMs,
            scopes: Object.freeze([...message.scopes]),
            sessionId: message.sessionId,
          },
          true,
        );
        return;
      case "logout":
        if (current?.sessionId !== message.sessionId) return;
        clear("logged_out");
        notify(() => options.onLogout?.({ source: "other_holder" }));
        return;
      case "session_lost":
        if (current?.sessionId !== message.sessionId) return;
        clear(message.reason);
        notify(() => options.onSessionLost?.(message.reason));
        return;
    }
  }

  async function adopt(
    payload: AuthPayloadFields,
    exchange: Exchange,
    startEpoch: number,
  ): Promise<TokenState> {
    const expiresAt = new Date(payload.expiresAt);
    if (Number.isNaN(expiresAt.getTime()) || typeof payload.accessToken !== "string") {
      throw new HoldfastClientError("BAD_RESPONSE", "The server sent an unusable token", {
        status: exchange.status,
      });
    }
    assertSame(startEpoch);
    if (refreshTokenStore && payload.refreshToken) await refreshTokenStore.set(payload.refreshToken);
    assertSame(startEpoch);
    const serverDate = Date.parse(exchange.headers.get("date") ?? "");
    const schedule = refreshSchedule(
      expiresAt,
      exchange.receivedAtMs,
      Number.isNaN(serverDate) ? null : serverDate,
      options.refreshAhead,
    );
    const state: TokenState = {
      accessToken: payload.accessToken,
      tokenType: /^dpop$/i.test(payload.tokenType) ? "DPoP" : "Bearer",
      expiresAt,
      ...schedule,
      scopes: Object.freeze([...payload.scopes]),
      sessionId: payload.session.id,
    };
    set(state);
    channel.publish({
      type: "tokens",
      accessToken: state.accessToken,
      tokenType: state.tokenType,
      expiresAt: state.expiresAt.toISOString(),
      localExpiresAtMs: state.localExpiresAtMs,
      refreshAtMs: state.refreshAtMs,
      scopes: state.scopes,
      sessionId: state.sessionId,
    });
    return state;
  }

  async function lose(reason: string, definitive: boolean): Promise<void> {
    const had = current;
    clear(reason);
    if (definitive) {
      if (refreshTokenStore) await refreshTokenStore.set(null).catch(() => undefined);
      if (had) channel.publish({ type: "session_lost", reason, sessionId: had.sessionId });
    }
    if (had) notify(() => options.onSessionLost?.(reason));
  }

  function endLocally(sessionId: string | null): void {
    clear("logged_out");
    if (sessionId) channel.publish({ type: "logout", sessionId });
    notify(() => options.onLogout?.({ source: "this_client" }));
  }

  return {
    get current() {
      return current;
    },
    get epoch() {
      return epoch;
    },
    get destroyed() {
      return destroyed;
    },
    assertSame,
    set,
    clear,
    adopt,
    lose,
    endLocally,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      clear("destroyed");
      listeners.clear();
      channel.close();
    },
  };
}

export function sessionEnded(): HoldfastClientError {
  return new HoldfastClientError("SESSION_LOST", "The session ended while the call waited", {
    reason: "logged_out",
  });
}

function notify(callback: () => void): void {
  try {
    callback();
  } catch {
    // A throwing callback must not leave the client half-updated.
  }
}
