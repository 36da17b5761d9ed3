import { defaultRetry } from "./backoff.js";
import type { ClientClock, ClientTimers, HoldfastClientOptions, SessionInfo } from "./client-types.js";
import type { DemoTokenTap } from "./demo-token-tap.js";
import { createMemoryDpopKeyStore } from "./dpop-key-store.js";
import { type Exchange, errorOf, failureOf, type Operation } from "./graphql-exchange.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import type { AuthPayloadFields } from "./operations.js";
import { createInProcessRefreshLock } from "./refresh-lock.js";
import { defaultRefreshAhead } from "./refresh-schedule.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import { createRefresher, type Refresher, SESSION_ENDING_REASONS, startRefreshTimer } from "./refresher.js";
import { createSessionHolder, type SessionHolder, type TokenState } from "./session-holder.js";
import { createTransport, type Transport } from "./transport.js";

/**
 * What the client's parts share, and what a feature module (a group of client methods, such as
 * session-operations.ts) builds on: a feature is a function `(core) => methods` spread into the client
 * by create-holdfast-client.ts.
 */
export interface ClientCore {
  readonly options: HoldfastClientOptions;
  readonly clock: ClientClock;
  readonly timers: ClientTimers;
  readonly refreshTokenStore: RefreshTokenStore | null;
  readonly transport: Transport;
  readonly session: SessionHolder;
  readonly refresher: Refresher;
  /** The token for the next request, refreshed first when due; null when signed out. */
  tokenForRequest(ahead?: boolean): Promise<TokenState | null>;
  /**
   * Runs an operation with the session's token. A token refused as expired or invalid is refreshed
   * once and the call retried once; a refusal that ends the session ends it here too.
   * `ahead: false` (logout) sends a token that is due but still valid rather than wait for a refresh.
   */
  execute(operation: Operation, ahead?: boolean): Promise<Exchange>;
  /** Runs an operation whose `field` answers an AuthPayload (login, register, …) and adopts its session. */
  authenticate(operation: Operation, field: string): Promise<SessionInfo>;
  /**
   * The step-up hook (RFC 9470): called with the refusal's extensions when an operation is refused
   * with `insufficient_user_authentication`; resolving true means the session was re-authenticated
   * and the operation is retried once.
   */
  setStepUpHandler(handler: StepUpHandler | null): void;
  /** Throws CLIENT_DESTROYED after `destroy()`. */
  assertAlive(): void;
  /** Runs `teardown` when the client is destroyed. */
  onDestroy(teardown: () => void): void;
  /**
   * Runs `listener` when the user starts a logout here, before the server is told: what the session
   * carries (open subscriptions) ends cleanly now, not by the server's revocation close a moment later.
   */
  onLogoutStart(listener: () => void): void;
  /** Called by logout() and logoutEverywhere(). */
  logoutStarting(): void;
  destroy(): void;
}

export type StepUpHandler = (extensions: Readonly<Record<string, unknown>>) => Promise<boolean>;

/** A fresh token may cure these: refresh once and retry the call once. */
const REFRESH_CURES_REASONS = new Set(["token_expired", "invalid_token"]);

const systemClock: ClientClock = { now: () => Date.now() };
const systemTimers: ClientTimers = {
  setTimeout: (callback, ms) => {
    const handle = globalThis.setTimeout(callback, ms) as unknown as { unref?: () => void };
    // In Node, a pending refresh must not keep the process alive.
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export function createClientCore(options: HoldfastClientOptions): ClientCore {
  const endpoint = resolveEndpoint(options);
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const refreshTokenStore = options.refreshTokenStore ?? null;
  const lock = options.lock ?? createInProcessRefreshLock();

  const transport = createTransport({
    endpoint,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    clock,
    timers,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    includeCredentials: !refreshTokenStore,
    dpop: {
      enabled: options.dpop ?? typeof globalThis.crypto?.subtle?.sign === "function",
      algorithm: options.dpopAlgorithm ?? "ES256",
      keyStore: options.keyStore ?? createMemoryDpopKeyStore(),
    },
  });
  const session = createSessionHolder({
    lock,
    refreshTokenStore,
    refreshAhead: { ...defaultRefreshAhead, ...options.refreshAhead },
    onSessionLost: options.onSessionLost,
    onLogout: options.onLogout,
  });
  const refresher = createRefresher({
    session,
    transport,
    lock,
    clock,
    timers,
    random: options.random ?? Math.random,
    retry: { ...defaultRetry, ...options.retry },
    refreshTokenStore,
  });
  const teardowns: (() => void)[] = [];
  const logoutListeners: (() => void)[] = [];
  let stepUpHandler: StepUpHandler | null = null;
  if (options.refreshTimer) teardowns.push(startRefreshTimer(session, refresher, clock, timers));
  if (options.unsafeDemoTokenTap)
    teardowns.push(tapTokensForDemo(session, clock, options.unsafeDemoTokenTap));

  async function tokenForRequest(ahead = true): Promise<TokenState | null> {
    const current = session.current;
    if (!current) return null;
    if (clock.now() < (ahead ? current.refreshAtMs : current.localExpiresAtMs)) return current;
    return refresher.refresh(current, "ahead");
  }

  async function execute(operation: Operation, ahead = true): Promise<Exchange> {
    let token = await tokenForRequest(ahead);
    let exchange = await transport.send(operation, token, false);
    let failure = failureOf(exchange);
    if (token && failure?.reason && REFRESH_CURES_REASONS.has(failure.reason)) {
      // Once: the token we sent was refused, but someone may already hold a newer one.
      const current = session.current;
      token = current && current !== token ? current : await refresher.refresh(token, "replace");
      exchange = await transport.send(operation, token, false);
      failure = failureOf(exchange);
    }
    if (token && failure?.reason === "insufficient_user_authentication" && stepUpHandler) {
      const refusal = exchange.body?.errors?.find((e) => e.extensions?.reason === failure?.reason);
      if (await stepUpHandler(refusal?.extensions ?? {})) {
        token = session.current;
        exchange = await transport.send(operation, token, false);
        failure = failureOf(exchange);
      }
    }
    if (token && failure?.reason && SESSION_ENDING_REASONS.has(failure.reason) && session.current === token) {
      await session.lose(failure.reason, true);
    }
    return exchange;
  }

  function assertAlive(): void {
    if (session.destroyed) throw new HoldfastClientError("CLIENT_DESTROYED", "The client was destroyed");
  }

  async function authenticate(operation: Operation, field: string): Promise<SessionInfo> {
    assertAlive();
    const exchange = await transport.send(operation, null, true);
    const payload = exchange.body?.data?.[field] as AuthPayloadFields | null | undefined;
    if (!payload || exchange.body?.errors?.length) throw errorOf(exchange);
    // A new login replaces whatever session this client held.
    session.clear();
    return sessionInfoOf(payload, await session.adopt(payload, exchange, session.epoch));
  }

  return Object.freeze({
    options,
    clock,
    timers,
    refreshTokenStore,
    transport,
    session,
    refresher,
    tokenForRequest,
    execute,
    authenticate,
    setStepUpHandler(handler: StepUpHandler | null) {
      stepUpHandler = handler;
    },
    assertAlive,
    onDestroy(teardown: () => void) {
      teardowns.push(teardown);
    },
    onLogoutStart(listener: () => void) {
      logoutListeners.push(listener);
    },
    logoutStarting() {
      for (const listener of logoutListeners) {
        try {
          listener();
        } catch {
          // A failing listener must not keep the logout from reaching the server.
        }
      }
    },
    destroy() {
      if (session.destroyed) return;
      for (const teardown of teardowns.splice(0)) {
        try {
          teardown();
        } catch {
          // One failing teardown must not keep the rest from running.
        }
      }
      session.destroy();
    },
  });
}

function resolveEndpoint(options: HoldfastClientOptions): string {
  const raw =
    options.endpoint ?? (options.baseUrl ? `${options.baseUrl.replace(/\/+$/, "")}/graphql` : undefined);
  if (!raw) throw new TypeError("createHoldfastClient needs baseUrl or endpoint");
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(raw, page).href;
}

/** DEMO ONLY (`unsafeDemoTokenTap`): each new access token, once, with how this client got it. */
function tapTokensForDemo(session: SessionHolder, clock: ClientClock, tap: DemoTokenTap): () => void {
  let last: TokenState | null = null;
  return session.onChange((state, fromOtherHolder) => {
    if (!state || state.accessToken === last?.accessToken) {
      if (!state) last = null;
      return;
    }
    const via = fromOtherHolder ? "other_tab" : last?.sessionId === state.sessionId ? "refresh" : "sign_in";
    last = state;
    tap({
      accessToken: state.accessToken,
      tokenType: state.tokenType,
      expiresAt: new Date(state.expiresAt),
      scopes: state.scopes,
      sessionId: state.sessionId,
      via,
      receivedAtMs: clock.now(),
    });
  });
}

/** What a sign-in or step-up answers the app: the user and the session just adopted. */
export function sessionInfoOf(payload: AuthPayloadFields, state: TokenState): SessionInfo {
  return Object.freeze({
    user: Object.freeze({
      id: payload.user.id,
      displayName: payload.user.displayName,
      email: payload.user.email,
    }),
    sessionId: state.sessionId,
    scopes: state.scopes,
    expiresAt: new Date(state.expiresAt),
  });
}
