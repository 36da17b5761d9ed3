import { backoffDelayMs, defaultRetry, parseRetryAfter, type RetryOptions } from "./backoff.js";
import { createMemoryDpopKeyStore, type DpopKeyStore } from "./dpop-key-store.js";
import { createDpopSigner, type DpopAlgorithm, type DpopSigner, generateDpopKeyPair } from "./dpop-proof.js";
import { type GraphQLErrorLike, HoldfastClientError } from "./holdfast-client-error.js";
import {
  type AuthPayloadFields,
  LoginDocument,
  LogoutDocument,
  LogoutEverywhereDocument,
  RefreshDocument,
  RegisterDocument,
} from "./operations.js";
import {
  createInProcessRefreshLock,
  type RefreshLock,
  type SessionChannel,
  type SessionMessage,
} from "./refresh-lock.js";
import { defaultRefreshAhead, type RefreshAheadOptions, refreshSchedule } from "./refresh-schedule.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import type { TypedDocument, VariablesArgument } from "./typed-document.js";

/** Wall-clock time in ms since the epoch; injected so tests can move it. */
export interface ClientClock {
  now(): number;
}

/** Injected so tests can run backoff and timers on a fake clock. */
export interface ClientTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Why the session ended without the user asking: `refresh_failed` or a server reason. */
export type SessionLostReason =
  | "refresh_failed"
  | "refresh_token_reused"
  | "token_revoked"
  | "invalid_refresh_token"
  | (string & {});

export interface HoldfastClientOptions {
  /** The server's origin (and path prefix); the endpoint is `<baseUrl>/graphql`. */
  readonly baseUrl?: string;
  /** The GraphQL endpoint itself, instead of `baseUrl`. Relative URLs resolve against the page. */
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
  readonly clock?: ClientClock;
  readonly timers?: ClientTimers;
  /** Source of jitter for backoff, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Bind tokens to a DPoP key (RFC 9449). Default: true where WebCrypto exists. */
  readonly dpop?: boolean;
  /** Algorithm for a newly generated key. Default ES256; EdDSA where WebCrypto has Ed25519. */
  readonly dpopAlgorithm?: DpopAlgorithm;
  /** Default: in memory (the key ends with the process). The browser entry defaults to IndexedDB. */
  readonly keyStore?: DpopKeyStore;
  /** Node/native: keep the refresh token here and ask for BODY delivery. Without it: the HttpOnly cookie. */
  readonly refreshTokenStore?: RefreshTokenStore;
  readonly refreshAhead?: Partial<RefreshAheadOptions>;
  readonly retry?: Partial<RetryOptions>;
  /** Coordinates refreshes with other holders of the session. Default: in-process. */
  readonly lock?: RefreshLock;
  /**
   * Also refresh on a timer, not only when a request finds the token due. Off by default: a session
   * should stay alive because its user is active, not because a tab was left open.
   */
  readonly refreshTimer?: boolean;
  /** Abort a request after this long (ms); 0 for never. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** The session ended without the user asking (refresh failed for good, token revoked, theft detected). */
  readonly onSessionLost?: (reason: SessionLostReason) => void;
  /** The session ended by logout, here or in another holder (tab). */
  readonly onLogout?: (info: { readonly source: "this_client" | "other_holder" }) => void;
}

export interface ClientState {
  readonly authenticated: boolean;
  /** The access token's expiry as the server set it. */
  readonly expiresAt: Date | null;
  readonly scopes: readonly string[];
  readonly sessionId: string | null;
}

/** What login and register return: everything but the tokens. */
export interface SessionInfo {
  readonly user: { readonly id: string; readonly displayName: string; readonly email: string | null };
  readonly sessionId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

export interface LoginCredentials {
  readonly email: string;
  readonly password: string;
  /** A subset of the account's scopes; all of them when omitted. */
  readonly scopes?: readonly string[];
}

export interface RegisterDetails {
  readonly email: string;
  readonly password: string;
  readonly displayName: string;
}

export interface HoldfastClient {
  login(credentials: LoginCredentials): Promise<SessionInfo>;
  register(details: RegisterDetails): Promise<SessionInfo>;
  /** Ends this session on the server and here. Resolves true when the server confirmed. */
  logout(): Promise<boolean>;
  /** Ends every session of the user. Resolves true when the server confirmed. */
  logoutEverywhere(): Promise<boolean>;
  /** Runs an operation, refreshing first when the token is due. Throws HoldfastClientError on errors. */
  request<TData, TVariables>(
    document: TypedDocument<TData, TVariables>,
    ...variables: VariablesArgument<TVariables>
  ): Promise<TData>;
  /** Refreshes now (single-flight, shared with other holders). */
  refresh(): Promise<ClientState>;
  /** Picks up a session that outlived this page or process (refresh cookie or stored token). */
  resume(): Promise<boolean>;
  state(): ClientState;
  /** Forgets the session locally, stops timers and listeners. The server session is untouched. */
  destroy(): void;
}

interface TokenState {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
  readonly expiresAt: Date;
  readonly localExpiresAtMs: number;
  readonly refreshAtMs: number;
  readonly scopes: readonly string[];
  readonly sessionId: string;
}

interface GraphQLResponseBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLErrorLike[];
}

interface Exchange {
  readonly status: number;
  readonly headers: Headers;
  readonly body: GraphQLResponseBody | null;
  readonly receivedAtMs: number;
}

interface Operation {
  readonly query: string;
  readonly operationName?: string | undefined;
  readonly variables?: unknown;
}

/** How a refresh that ran out of attempts ends. */
type RefreshMode =
  /** Ahead of expiry: keep using a still-valid token, try again later. */
  | "ahead"
  /** Asked for: report the failure, keep a still-valid token. */
  | "forced"
  /** The server refused the token: without a new one the session is over. */
  | "replace";

/** The server ends the session on these; refreshing again cannot help. */
const SESSION_ENDING_REASONS = new Set(["refresh_token_reused", "token_revoked", "invalid_refresh_token"]);
/** A fresh token may cure these: refresh once and retry the call once. */
const REFRESH_CURES_REASONS = new Set(["token_expired", "invalid_token"]);

/** A proof refused while our clock was off from the server's by more than this is signed again. */
const CLOCK_RETRY_MS = 2_000;

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

/**
 * A GraphQL client that keeps the access token in a closure (never in storage, never on the returned
 * object), binds it to a non-extractable DPoP key, refreshes it ahead of expiry once for all callers,
 * and ends the session cleanly when the server says it is over.
 */
export function createHoldfastClient(options: HoldfastClientOptions): HoldfastClient {
  const endpoint = resolveEndpoint(options);
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? Math.random;
  const dpopEnabled = options.dpop ?? typeof globalThis.crypto?.subtle?.sign === "function";
  const dpopAlgorithm = options.dpopAlgorithm ?? "ES256";
  const keyStore = options.keyStore ?? createMemoryDpopKeyStore();
  const refreshTokenStore = options.refreshTokenStore ?? null;
  const refreshAhead: RefreshAheadOptions = { ...defaultRefreshAhead, ...options.refreshAhead };
  const retry: RetryOptions = { ...defaultRetry, ...options.retry };
  const lock = options.lock ?? createInProcessRefreshLock();
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;

  // The session lives in these closure variables and nowhere else.
  let current: TokenState | null = null;
  /** Bumped whenever a session ends, so a refresh that finishes afterwards cannot revive it. */
  let epoch = 0;
  let inFlight: Promise<TokenState> | null = null;
  let lastNonce: string | null = null;
  /** The server's clock minus ours (ms), from the last `Date` header; 0 until one arrives. */
  let serverOffsetMs = 0;
  let signer: Promise<DpopSigner> | null = null;
  let timer: unknown = null;
  let destroyed = false;

  const channel: SessionChannel = lock.connect(onHolderMessage);

  // --- transport -------------------------------------------------------------------------------

  function getSigner(): Promise<DpopSigner> {
    signer ??= (async () => {
      let keyPair: CryptoKeyPair;
      try {
        keyPair =
          (await keyStore.get()) ?? (await keyStore.setIfAbsent(await generateDpopKeyPair(dpopAlgorithm)));
      } catch {
        // A key store that fails (private browsing, quota) costs persistence across reloads, not DPoP.
        keyPair = await generateDpopKeyPair(dpopAlgorithm);
      }
      return createDpopSigner(keyPair);
    })();
    signer.catch(() => {
      signer = null;
    });
    return signer;
  }

  async function post(operation: Operation, headers: Record<string, string>): Promise<Exchange> {
    const controller = new AbortController();
    // 0 (or Infinity) turns the timeout off.
    const timeout =
      requestTimeoutMs > 0 && Number.isFinite(requestTimeoutMs)
        ? timers.setTimeout(() => controller.abort(), requestTimeoutMs)
        : null;
    try {
      const init: RequestInit = {
        method: "POST",
        headers,
        body: JSON.stringify(operation),
        signal: controller.signal,
      };
      // The refresh cookie is HttpOnly and scoped by the server; the browser attaches it only if asked.
      if (!refreshTokenStore) init.credentials = "include";
      const response = await fetchFn(endpoint, init);
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: parseBody(text),
        receivedAtMs: clock.now(),
      };
    } catch (cause) {
      throw new HoldfastClientError("NETWORK_ERROR", "The request did not complete", {
        retryable: true,
        cause,
      });
    } finally {
      if (timeout !== null) timers.clearTimeout(timeout);
    }
  }

  /**
   * One call to the server, with a DPoP proof when the token is bound (or when `bind` asks for tokens
   * to be bound: login, register, refresh). A `use_dpop_nonce` answer is retried once with the nonce
   * the server gave (RFC 9449 §8); a second demand is returned as it is, never looped on.
   *
   * The proof's `iat` is on the server's clock as its `Date` header shows it: a device whose clock is
   * minutes off would otherwise have every proof refused (the server accepts `iat` only within a
   * window around its own time, RFC 9449 §11.1). The first call cannot know the offset yet, so an
   * `invalid_dpop_proof` answer whose `Date` reveals a clock off by more than CLOCK_RETRY_MS is retried
   * once with a proof on the corrected clock. DPoP is checked before anything runs, so nothing is
   * repeated on the server.
   */
  async function send(operation: Operation, token: TokenState | null, bind: boolean): Promise<Exchange> {
    let retriedNonce = false;
    let retriedClock = false;
    for (;;) {
      const offsetUsedMs = serverOffsetMs;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      };
      if (token) headers.authorization = `${token.tokenType} ${token.accessToken}`;
      const proves = dpopEnabled && (bind || token?.tokenType === "DPoP");
      if (proves) {
        headers.dpop = await (await getSigner()).sign({
          htm: "POST",
          htu: endpoint,
          iat: Math.floor((clock.now() + offsetUsedMs) / 1000),
          accessToken: token?.tokenType === "DPoP" ? token.accessToken : undefined,
          nonce: lastNonce ?? undefined,
        });
      }
      const exchange = await post(operation, headers);
      const serverDateMs = Date.parse(exchange.headers.get("date") ?? "");
      // `Date` has whole seconds: the server's time was somewhere in the second it names.
      if (!Number.isNaN(serverDateMs)) serverOffsetMs = serverDateMs + 500 - exchange.receivedAtMs;
      const nonce = exchange.headers.get("dpop-nonce");
      if (nonce) lastNonce = nonce;
      const reason = proves ? failureOf(exchange)?.reason : undefined;
      if (reason === "use_dpop_nonce" && nonce && !retriedNonce) {
        retriedNonce = true;
        continue;
      }
      if (
        reason === "invalid_dpop_proof" &&
        !retriedClock &&
        Math.abs(serverOffsetMs - offsetUsedMs) > CLOCK_RETRY_MS
      ) {
        retriedClock = true;
        continue;
      }
      return exchange;
    }
  }

  // --- session state ---------------------------------------------------------------------------

  function setCurrent(next: TokenState): void {
    current = next;
    scheduleTimer(next);
  }

  function clearLocal(): void {
    current = null;
    epoch += 1;
    cancelTimer();
  }

  function scheduleTimer(state: TokenState): void {
    cancelTimer();
    if (!options.refreshTimer || destroyed) return;
    timer = timers.setTimeout(
      () => {
        timer = null;
        if (current === state) refreshShared(state, "ahead").catch(() => undefined);
      },
      Math.max(0, state.refreshAtMs - clock.now()),
    );
  }

  function cancelTimer(): void {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  }

  async function loseSession(reason: string, definitive: boolean): Promise<void> {
    const had = current;
    clearLocal();
    if (definitive) {
      if (refreshTokenStore) await refreshTokenStore.set(null).catch(() => undefined);
      if (had) channel.publish({ type: "session_lost", reason, sessionId: had.sessionId });
    }
    if (had) notify(() => options.onSessionLost?.(reason));
  }

  function endLocally(sessionId: string | null): void {
    clearLocal();
    if (sessionId) channel.publish({ type: "logout", sessionId });
    notify(() => options.onLogout?.({ source: "this_client" }));
  }

  function onHolderMessage(message: SessionMessage): void {
    if (destroyed) return;
    switch (message.type) {
      case "tokens":
        setCurrent({
          accessToken: message.accessToken,
          tokenType: message.tokenType,
          expiresAt: new Date(message.expiresAt),
          localExpiresAtMs: message.localExpiresAtMs,
          refreshAtMs: message.refreshAtMs,
          scopes: Object.freeze([...message.scopes]),
          sessionId: message.sessionId,
        });
        return;
      case "logout":
        if (current?.sessionId !== message.sessionId) return;
        clearLocal();
        notify(() => options.onLogout?.({ source: "other_holder" }));
        return;
      case "session_lost":
        if (current?.sessionId !== message.sessionId) return;
        clearLocal();
        notify(() => options.onSessionLost?.(message.reason));
        return;
    }
  }

  /** Turns an AuthPayload into the session, stores the new refresh token, tells the other holders. */
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
    if (epoch !== startEpoch || destroyed) throw sessionEnded();
    if (refreshTokenStore && payload.refreshToken) await refreshTokenStore.set(payload.refreshToken);
    if (epoch !== startEpoch || destroyed) throw sessionEnded();
    const serverDate = Date.parse(exchange.headers.get("date") ?? "");
    const schedule = refreshSchedule(
      expiresAt,
      exchange.receivedAtMs,
      Number.isNaN(serverDate) ? null : serverDate,
      refreshAhead,
    );
    const state: TokenState = {
      accessToken: payload.accessToken,
      tokenType: /^dpop$/i.test(payload.tokenType) ? "DPoP" : "Bearer",
      expiresAt,
      ...schedule,
      scopes: Object.freeze([...payload.scopes]),
      sessionId: payload.session.id,
    };
    setCurrent(state);
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

  // --- refresh ---------------------------------------------------------------------------------

  /** Single-flight: every caller during a refresh waits for the same one. */
  function refreshShared(stale: TokenState | null, mode: RefreshMode): Promise<TokenState> {
    if (!inFlight) {
      inFlight = refreshUnderLock(stale, mode).finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  function refreshUnderLock(stale: TokenState | null, mode: RefreshMode): Promise<TokenState> {
    const startEpoch = epoch;
    return lock.run(async () => {
      if (epoch !== startEpoch || destroyed) throw sessionEnded();
      // Another holder refreshed while we waited for the lock; its message already replaced the token.
      if (current && current !== stale && clock.now() < current.refreshAtMs) return current;
      return refreshWithRetries(startEpoch, mode);
    });
  }

  async function refreshWithRetries(startEpoch: number, mode: RefreshMode): Promise<TokenState> {
    let refreshToken: string | null = null;
    if (refreshTokenStore) {
      refreshToken = await refreshTokenStore.get();
      if (!refreshToken) return refreshRefused("invalid_refresh_token", null);
    }
    const operation: Operation = {
      query: RefreshDocument.query,
      operationName: RefreshDocument.operationName,
      variables: refreshToken ? { refreshToken } : {},
    };
    for (let attempt = 1; ; attempt++) {
      let failure: HoldfastClientError;
      let retryAfterMs: number | null = null;
      try {
        const exchange = await send(operation, null, true);
        const payload = exchange.body?.data?.refresh as AuthPayloadFields | null | undefined;
        if (payload && !exchange.body?.errors?.length) return await adopt(payload, exchange, startEpoch);
        failure = errorOf(exchange);
        retryAfterMs = parseRetryAfter(exchange.headers.get("retry-after"), clock.now());
      } catch (error) {
        if (!(error instanceof HoldfastClientError) || error.code !== "NETWORK_ERROR") throw error;
        failure = error;
      }
      if (!failure.retryable) return refreshRefused(failure.reason ?? "refresh_failed", failure);
      if (attempt >= retry.maxAttempts) return refreshExhausted(mode, failure);
      await sleep(backoffDelayMs(attempt, retry, random, retryAfterMs));
      if (epoch !== startEpoch || destroyed) throw sessionEnded();
    }
  }

  /** The server said no for good: the session is over. */
  async function refreshRefused(reason: string, failure: HoldfastClientError | null): Promise<never> {
    await loseSession(reason, SESSION_ENDING_REASONS.has(reason) || failure === null);
    throw new HoldfastClientError("SESSION_LOST", "The session has ended", {
      reason,
      status: failure?.status,
      errors: failure?.errors ?? [],
    });
  }

  /** Every attempt failed on the network or the server's side. */
  async function refreshExhausted(mode: RefreshMode, failure: HoldfastClientError): Promise<TokenState> {
    const stillValid = current !== null && clock.now() < current.localExpiresAtMs;
    if (current && stillValid && mode !== "replace") {
      // The token still works: keep it, and let a later request try again after a pause.
      setCurrent({
        ...current,
        refreshAtMs: Math.min(clock.now() + retry.maxDelayMs, current.localExpiresAtMs),
      });
      if (mode === "ahead") return current;
      throw failure;
    }
    if (!current) throw failure;
    await loseSession("refresh_failed", false);
    throw new HoldfastClientError("SESSION_LOST", "The session could not be refreshed", {
      reason: "refresh_failed",
      status: failure.status,
      retryable: true,
      cause: failure,
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => timers.setTimeout(resolve, ms));
  }

  // --- operations ------------------------------------------------------------------------------

  /** `ahead: false` (logout) sends a token that is due but still valid rather than wait for a refresh. */
  async function tokenForRequest(ahead: boolean): Promise<TokenState | null> {
    if (!current) return null;
    if (clock.now() < (ahead ? current.refreshAtMs : current.localExpiresAtMs)) return current;
    return refreshShared(current, "ahead");
  }

  async function execute(operation: Operation, ahead = true): Promise<Exchange> {
    let token = await tokenForRequest(ahead);
    let exchange = await send(operation, token, false);
    let failure = failureOf(exchange);
    if (token && failure?.reason && REFRESH_CURES_REASONS.has(failure.reason)) {
      // Once: the token we sent was refused, but someone may already hold a newer one.
      token = current && current !== token ? current : await refreshShared(token, "replace");
      exchange = await send(operation, token, false);
      failure = failureOf(exchange);
    }
    if (token && failure?.reason && SESSION_ENDING_REASONS.has(failure.reason) && current === token) {
      await loseSession(failure.reason, true);
    }
    return exchange;
  }

  async function authenticate(operation: Operation, field: "login" | "register"): Promise<SessionInfo> {
    assertAlive();
    const exchange = await send(operation, null, true);
    const payload = exchange.body?.data?.[field] as AuthPayloadFields | null | undefined;
    if (!payload || exchange.body?.errors?.length) throw errorOf(exchange);
    // A new login replaces whatever session this client held.
    clearLocal();
    const state = await adopt(payload, exchange, epoch);
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

  async function endSession(
    document: typeof LogoutDocument | typeof LogoutEverywhereDocument,
  ): Promise<boolean> {
    assertAlive();
    if (!current) await resume().catch(() => false);
    const sessionId = current?.sessionId ?? null;
    let confirmed = false;
    if (current) {
      try {
        const exchange = await execute(
          { query: document.query, operationName: document.operationName },
          false,
        );
        const data = exchange.body?.data ?? {};
        confirmed = data.logout === true || data.logoutEverywhere === true;
      } catch {
        // Logged out here whatever the network says; the caller learns the server part from `false`.
      }
    }
    if (refreshTokenStore) await refreshTokenStore.set(null).catch(() => undefined);
    endLocally(sessionId);
    return confirmed;
  }

  function assertAlive(): void {
    if (destroyed) throw new HoldfastClientError("CLIENT_DESTROYED", "The client was destroyed");
  }

  async function resume(): Promise<boolean> {
    assertAlive();
    if (current) return true;
    if (refreshTokenStore && !(await refreshTokenStore.get())) return false;
    try {
      await refreshShared(null, "forced");
      return true;
    } catch (error) {
      if (error instanceof HoldfastClientError && error.code === "SESSION_LOST") return false;
      throw error;
    }
  }

  function state(): ClientState {
    const s = current;
    return Object.freeze({
      authenticated: s !== null,
      expiresAt: s ? new Date(s.expiresAt) : null,
      scopes: s ? s.scopes : Object.freeze([]),
      sessionId: s ? s.sessionId : null,
    });
  }

  const client: HoldfastClient = {
    login(credentials) {
      const input = {
        email: credentials.email,
        password: credentials.password,
        ...(credentials.scopes ? { scopes: [...credentials.scopes] } : {}),
        refreshTokenDelivery: refreshTokenStore ? "BODY" : "COOKIE",
      };
      return authenticate(
        { query: LoginDocument.query, operationName: LoginDocument.operationName, variables: { input } },
        "login",
      );
    },
    register(details) {
      const input = {
        email: details.email,
        password: details.password,
        displayName: details.displayName,
        refreshTokenDelivery: refreshTokenStore ? "BODY" : "COOKIE",
      };
      return authenticate(
        {
          query: RegisterDocument.query,
          operationName: RegisterDocument.operationName,
          variables: { input },
        },
        "register",
      );
    },
    logout: () => endSession(LogoutDocument),
    logoutEverywhere: () => endSession(LogoutEverywhereDocument),
    async request<TData, TVariables>(
      document: TypedDocument<TData, TVariables>,
      ...rest: VariablesArgument<TVariables>
    ): Promise<TData> {
      assertAlive();
      const exchange = await execute({
        query: document.query,
        operationName: document.operationName,
        variables: rest[0] ?? {},
      });
      const data = exchange.body?.data;
      if (!data || exchange.body?.errors?.length) throw errorOf(exchange);
      return data as TData;
    },
    async refresh() {
      assertAlive();
      await refreshShared(current, "forced");
      return state();
    },
    resume,
    state,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      clearLocal();
      channel.close();
    },
  };
  return Object.freeze(client);
}

// --- helpers ---------------------------------------------------------------------------------------

function resolveEndpoint(options: HoldfastClientOptions): string {
  const raw =
    options.endpoint ?? (options.baseUrl ? `${options.baseUrl.replace(/\/+$/, "")}/graphql` : undefined);
  if (!raw) throw new TypeError("createHoldfastClient needs baseUrl or endpoint");
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(raw, page).href;
}

function parseBody(text: string): GraphQLResponseBody | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as GraphQLResponseBody) : null;
  } catch {
    return null;
  }
}

/** The authentication failure in a response, from the GraphQL body or else `WWW-Authenticate`. */
function failureOf(exchange: Exchange): { code: string; reason: string | undefined } | null {
  const errors = exchange.body?.errors ?? [];
  const unauthenticated = errors.find((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (unauthenticated) return { code: "UNAUTHENTICATED", reason: unauthenticated.extensions?.reason };
  if (exchange.status === 401) {
    // RFC 6750 §3 / RFC 9449 §7.1: `error="..."` in the challenge.
    const challenge = exchange.headers.get("www-authenticate") ?? "";
    return { code: "UNAUTHENTICATED", reason: /\berror="([^"]*)"/.exec(challenge)?.[1] };
  }
  return null;
}

function errorOf(exchange: Exchange): HoldfastClientError {
  const errors = exchange.body?.errors ?? [];
  const first = errors.find((e) => e.extensions?.code === "UNAUTHENTICATED") ?? errors[0];
  const auth = failureOf(exchange);
  const code =
    first?.extensions?.code ?? auth?.code ?? (exchange.body ? "BAD_RESPONSE" : httpCode(exchange.status));
  const retryable =
    exchange.status >= 500 ||
    exchange.status === 429 ||
    code === "SERVICE_UNAVAILABLE" ||
    code === "TOO_MANY_REQUESTS";
  return new HoldfastClientError(code, first?.message ?? `The server answered HTTP ${exchange.status}`, {
    reason: first?.extensions?.reason ?? auth?.reason,
    status: exchange.status,
    retryable,
    errors,
    data: exchange.body?.data ?? undefined,
  });
}

function httpCode(status: number): string {
  if (status === 503) return "SERVICE_UNAVAILABLE";
  if (status === 429) return "TOO_MANY_REQUESTS";
  if (status === 401) return "UNAUTHENTICATED";
  return "BAD_RESPONSE";
}

function sessionEnded(): HoldfastClientError {
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
