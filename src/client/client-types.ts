import type { RetryOptions } from "./backoff.js";
import type { DemoTokenTap } from "./demo-token-tap.js";
import type { DpopKeyStore } from "./dpop-key-store.js";
import type { DpopAlgorithm } from "./dpop-proof.js";
import type { GraphQLErrorLike } from "./holdfast-client-error.js";
import type { SubscriptionHandlers, WebSocketConstructor } from "./live-subscriptions.js";
import type { PasskeyInfo, StepUpAnswer, StepUpChallenge, WebAuthnCeremonies } from "./passkey-types.js";
import type { RefreshLock } from "./refresh-lock.js";
import type { RefreshAheadOptions } from "./refresh-schedule.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import type { TypedDocument, VariablesArgument } from "./typed-document.js";

// The client's public types, apart from the function that builds it (create-holdfast-client.ts).

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
  /** For `subscribe()`: the WebSocket constructor. Default `globalThis.WebSocket`; in Node 20, `ws`'s. */
  readonly webSocket?: WebSocketConstructor;
  /**
   * RFC 9470 step-up: an operation needs a more recent authentication. Ask the user (password or
   * passkey); the client re-authenticates this session and retries the operation once. Null gives up.
   */
  readonly onStepUpRequired?: (challenge: StepUpChallenge) => Promise<StepUpAnswer | null>;
  /** WebAuthn ceremonies for passkeys. The browser entry uses @simplewebauthn/browser. */
  readonly webauthn?: WebAuthnCeremonies;
  /**
   * DEMO ONLY — never set this in an application. Hands every new access token to page code, which the
   * client otherwise keeps in its closure; the demo console uses it to decode the token and play the
   * thief. See demo-token-tap.ts.
   */
  readonly unsafeDemoTokenTap?: DemoTokenTap;
}

/** What `request()` resolves: the data, and the per-field errors of a partial answer (absent when none). */
export interface RequestResult<TData> {
  readonly data: TData;
  readonly errors?: readonly GraphQLErrorLike[];
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
  /**
   * Ends every session of the user. `removePasskeysAddedWithinDays` also removes the passkeys added
   * in that many last days (the recovery when a copied token may have planted one).
   */
  logoutEverywhere(options?: { readonly removePasskeysAddedWithinDays?: number }): Promise<boolean>;
  /**
   * Runs an operation, refreshing first when the token is due. Resolves `{ data, errors? }`: a
   * partial answer (some fields refused or failed, `null` in `data`, each error at its `path`)
   * resolves with both. Throws HoldfastClientError when there is no data, or when the server refused
   * the request's authentication (HTTP 401) after the client's one refresh and retry.
   */
  request<TData, TVariables>(
    document: TypedDocument<TData, TVariables>,
    ...variables: VariablesArgument<TVariables>
  ): Promise<RequestResult<TData>>;
  /**
   * Runs a GraphQL subscription over WebSocket with the session's token, renewed in band; returns
   * the function that stops it. Ends with SESSION_LOST when the server closes it for a dead session.
   */
  subscribe<TData, TVariables>(
    document: TypedDocument<TData, TVariables>,
    handlers: SubscriptionHandlers<TData, TVariables>,
  ): () => void;
  /** Refreshes now (single-flight, shared with other holders). */
  refresh(): Promise<ClientState>;
  /** Picks up a session that outlived this page or process (refresh cookie or stored token). */
  resume(): Promise<boolean>;
  state(): ClientState;
  /** Signs in with a passkey (discoverable credential, user verification). */
  signInWithPasskey(options?: { readonly scopes?: readonly string[] }): Promise<SessionInfo>;
  /**
   * Registers a passkey for the signed-in user. Adding a way to sign in proves a credential in the
   * same operation: `proof` is the current password, or `{ passkey: true }` to assert with an
   * existing passkey (the client runs that ceremony first). A step-up may be asked for too.
   */
  addPasskey(options: { readonly name?: string; readonly proof: StepUpAnswer }): Promise<PasskeyInfo>;
  passkeys(): Promise<PasskeyInfo[]>;
  removePasskey(id: string): Promise<boolean>;
  /** Proves the user again now (RFC 9470), raising this session's authentication. */
  reauthenticate(answer: StepUpAnswer): Promise<SessionInfo>;
  /** Forgets the session locally, stops timers and listeners. The server session is untouched. */
  destroy(): void;
}
