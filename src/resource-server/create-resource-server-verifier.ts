import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import {
  memoryProofReplayStore,
  type ProofReplayStore,
  type RedisCommandsLike,
} from "./proof-replay-store.js";
import { type RevocationFeedOptions, RevocationState } from "./revocation-state.js";
import { sharedReplayStore } from "./shared-replay-store.js";
import {
  type AccessTokenCheck,
  type ProtectedRequest,
  type VerifiedAccess,
  verifyAccessToken,
} from "./verify-access-token.js";

// Public from here as before verification moved to its own file.
export type { ProtectedRequest, VerifiedAccess } from "./verify-access-token.js";

export interface ResourceServerVerifierOptions {
  /** Holdfast's issuer: its `PUBLIC_URL` unless `JWT_ISSUER` is set. */
  readonly issuer: string;
  /** Holdfast's `JWT_AUDIENCE` (default `holdfast`). */
  readonly audience: string;
  /** Default `<issuer>/.well-known/jwks.json`. */
  readonly jwksUri?: string;
  /** Pinned: a token signed with any other alg is refused. Default `["EdDSA"]` (Holdfast's default `JWT_ALG`). */
  readonly algorithms?: readonly ("EdDSA" | "ES256")[];
  readonly clockToleranceSeconds?: number;
  /** DPoP proofs' `iat` is accepted this far from now, either way. Default 60. */
  readonly dpopIatWindowSeconds?: number;
  /** How revocations reach this service; without it only expiry ends a token. */
  readonly revocations?: RevocationFeedOptions;
  /**
   * Where DPoP proof ids are remembered (RFC 9449 §11.1). With `revocations.redis` they go to that
   * Redis (a proof used at one replica is refused at every other), through a second connection
   * (`{ url }`) or `subscriber.duplicate()`; `redis` names a command connection of your own instead.
   * Otherwise, this process's memory.
   */
  readonly dpopReplay?: {
    readonly redis?: RedisCommandsLike;
    /** Default: the feed channel's prefix + `resource-server:dpop-jti:` (`holdfast:` by default). */
    readonly keyPrefix?: string;
  };
  /**
   * Refuse (503, `revocation_state_stale`) when revocations could be older than this, e.g. Redis down
   * and the revoked-session list unreachable. Default 60 when `revocations` is configured (fail
   * closed); `Infinity` accepts a signed, unexpired token however old the revocation state is.
   */
  readonly maxRevocationStalenessSeconds?: number;
  /** Sent in challenges (RFC 9728 §5.1): this service's protected-resource metadata URL. */
  readonly resourceMetadata?: string;
  readonly fetch?: typeof fetch;
  /** ms since the epoch; injected for tests. */
  readonly now?: () => number;
  /** Told about feed and poll failures (never about tokens). Default: a console warning, once per cause. */
  readonly onError?: (error: unknown, context: string) => void;
  /** Keys, instead of fetching the JWKS (tests). */
  readonly keys?: JWTVerifyGetKey;
}

export interface ResourceServerVerifier {
  /** Resolves with the caller, or throws ResourceServerError. */
  verify(request: ProtectedRequest): Promise<VerifiedAccess>;
  /** Connects the revocation feed and runs the first poll. */
  start(): Promise<void>;
  isRevoked(sessionId: string): boolean;
  /** Whether the Redis feed is delivering now (false: the poll interval bounds revocation). */
  readonly feedHealthy: boolean;
  close(): Promise<void>;
}

const DEFAULT_MAX_STALENESS_SECONDS = 60;

/** The default onError: never silent, never a flood — one warning per cause (feed, poll, …). */
function warnOncePerCause(): (error: unknown, context: string) => void {
  const warned = new Set<string>();
  return (error, context) => {
    if (warned.has(context)) return;
    warned.add(context);
    const message = error instanceof Error ? error.message : String(error);
    console.warn(
      `[@holdfast/sdk/resource-server] ${context}: ${message} (further "${context}" errors not shown)`,
    );
  };
}

/**
 * Verifies Holdfast access tokens in another service without calling Holdfast per request: the
 * signature against the cached JWKS (alg pinned, `typ: at+jwt`, `iss`, `aud`, times), the DPoP proof
 * when the token is bound (`cnf.jkt`), and Holdfast's revocations from its feed.
 */
export function createResourceServerVerifier(options: ResourceServerVerifierOptions): ResourceServerVerifier {
  const issuer = options.issuer.replace(/\/+$/, "");
  const algorithms = [...(options.algorithms ?? ["EdDSA"])];
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const keys =
    options.keys ??
    createRemoteJWKSet(new URL(options.jwksUri ?? `${issuer}/.well-known/jwks.json`), {
      // A new kid is fetched at once (after a 30 s cool-down); known keys are re-read every 5 minutes,
      // so a key Holdfast withdraws stops verifying here within that.
      cacheMaxAge: 300_000,
      cooldownDuration: 30_000,
      [customFetch]: (url, init) => fetchFn(url, init),
    });
  const onError = options.onError ?? warnOncePerCause();
  const revocations = new RevocationState(
    {
      issuer,
      audience: options.audience,
      algorithms,
      keys,
      fetch: fetchFn,
      nowMs: now,
      onError,
      // Kept until `tokens_expire_by` (Holdfast's exp + its tolerance) + ours: never shorter than
      // the larger of the two tolerances past `exp`.
      extraRetentionMs: (options.clockToleranceSeconds ?? 5) * 1000,
    },
    options.revocations ?? {},
  );
  const following = Boolean(options.revocations?.redis || options.revocations?.poll);
  const maxStalenessSeconds =
    options.maxRevocationStalenessSeconds ?? (following ? DEFAULT_MAX_STALENESS_SECONDS : undefined);
  let replayStore: ProofReplayStore = memoryProofReplayStore(now);
  const check: AccessTokenCheck = {
    issuer,
    audience: options.audience,
    algorithms,
    keys,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
    dpopIatWindowSeconds: options.dpopIatWindowSeconds ?? 60,
    maxStalenessSeconds,
    revocations,
    replayStore: () => replayStore,
    now,
    resourceMetadata: options.resourceMetadata,
  };

  return {
    verify: (request) => verifyAccessToken(check, request),
    start: async () => {
      await revocations.start();
      // Moves proof ids to the feed's Redis when there is one (see `dpopReplay`).
      const shared = await sharedReplayStore({
        revocations: options.revocations,
        dpopReplay: options.dpopReplay,
        nowMs: now,
        onError,
      });
      if (shared) replayStore = shared;
    },
    isRevoked: (sid) => revocations.isRevoked(sid),
    get feedHealthy() {
      return revocations.feedHealthy;
    },
    close: async () => {
      replayStore.close();
      await revocations.close();
    },
  };
}
