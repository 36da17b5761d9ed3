import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import {
  memoryProofReplayStore,
  type ProofReplayStore,
  type RedisCommandsLike,
  sharedProofReplayStore,
} from "./proof-replay-store.js";
import { ResourceServerError } from "./resource-server-error.js";
import { type RevocationFeedOptions, RevocationState } from "./revocation-state.js";
import { verifyResourceDpopProof } from "./verify-resource-dpop-proof.js";

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

/** The request as this service received it. */
export interface ProtectedRequest {
  /** The `Authorization` header value(s). */
  readonly authorization: string | readonly string[] | null | undefined;
  /** The `DPoP` header value(s). */
  readonly dpop?: string | readonly string[] | null | undefined;
  readonly method: string;
  /** The URL the client addressed, as this service's public URL plus the path: what `htu` must name. */
  readonly url: string;
}

export interface VerifiedAccess {
  readonly userId: string;
  readonly sessionId: string;
  readonly scopes: ReadonlySet<string>;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** The DPoP key thumbprint the token is bound to, or null for a Bearer token. */
  readonly jkt: string | null;
  readonly claims: JWTPayload;
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

const TOKEN = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)$/i;
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
const MAX_AUTHORIZATION_LENGTH = 8192;

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
  const refuse = (
    reason: ConstructorParameters<typeof ResourceServerError>[0],
    message: string,
    scheme: "Bearer" | "DPoP",
  ) => new ResourceServerError(reason, message, scheme, options.resourceMetadata);

  /** Moves proof ids to the feed's Redis when there is one (see `dpopReplay`). */
  async function shareReplayStore(): Promise<void> {
    const commands = options.dpopReplay?.redis ?? (await replayConnection(options.revocations, onError));
    if (!commands) return;
    const channel = options.revocations?.channel ?? "holdfast:security-events";
    const keyPrefix =
      options.dpopReplay?.keyPrefix ?? `${channel.replace(/security-events$/, "")}resource-server:dpop-jti:`;
    replayStore = sharedProofReplayStore({ redis: commands, keyPrefix, nowMs: now, onError });
  }

  async function verify(request: ProtectedRequest): Promise<VerifiedAccess> {
    const authorization = asList(request.authorization);
    if (authorization.length !== 1)
      throw refuse("invalid_token", "One Authorization header is required", "Bearer");
    const value = authorization[0]!;
    const match = value.length <= MAX_AUTHORIZATION_LENGTH ? TOKEN.exec(value) : null;
    if (!match) throw refuse("invalid_token", "Malformed Authorization header", "Bearer");
    const scheme = match[1]!.toLowerCase() === "dpop" ? "DPoP" : "Bearer";
    const token = match[2]!;

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: options.audience,
        algorithms,
        typ: "at+jwt",
        requiredClaims: ["exp", "iat", "sub", "sid", "jti"],
        clockTolerance: options.clockToleranceSeconds ?? 5,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw refuse("token_expired", "The token has expired", scheme);
      throw refuse("invalid_token", "The token is not valid", scheme);
    }
    const { sub, sid, scope, cnf, exp } = payload as JWTPayload & {
      sid?: unknown;
      scope?: unknown;
      cnf?: unknown;
    };
    if (
      typeof sub !== "string" ||
      typeof sid !== "string" ||
      (scope !== undefined && typeof scope !== "string")
    )
      throw refuse("invalid_token", "The token is not valid", scheme);
    let jkt: string | null = null;
    if (cnf !== undefined) {
      const bound = (cnf as { jkt?: unknown } | null)?.jkt;
      if (typeof bound !== "string" || Object.keys(cnf as object).length !== 1)
        throw refuse("invalid_token", "The token is not valid", scheme);
      jkt = bound;
    }

    // A single revoked token travels under `jti:<jti>` (a narrowed token that gave itself up).
    if (
      revocations.isRevoked(sid) ||
      (typeof payload.jti === "string" && revocations.isRevoked(`jti:${payload.jti}`))
    )
      throw refuse("token_revoked", "The session of this token has ended", scheme);
    const limit = maxStalenessSeconds;
    if (limit !== undefined && Number.isFinite(limit)) {
      const staleness = revocations.stalenessMs();
      if (staleness === null || staleness > limit * 1000)
        throw refuse("revocation_state_stale", "Revocations cannot be checked now", scheme);
    }

    if (jkt) {
      // RFC 9449 §7.1: a bound token needs the DPoP scheme and a proof of the same key.
      const proof = asList(request.dpop);
      if (scheme !== "DPoP" || proof.length === 0)
        throw refuse(
          "dpop_required",
          "This token is bound to a key: use the DPoP scheme with a proof",
          "DPoP",
        );
      await verifyResourceDpopProof({
        proof,
        method: request.method,
        url: request.url,
        accessToken: token,
        expectedJkt: jkt,
        nowSeconds: Math.floor(now() / 1000),
        iatWindowSeconds: options.dpopIatWindowSeconds ?? 60,
        // Per key: one client's ids never collide with another's.
        remember: (jti, untilSeconds) => replayStore.remember(`${jkt}:${jti}`, untilSeconds),
      });
    } else if (scheme === "DPoP") {
      throw refuse("invalid_token", "The DPoP scheme needs a DPoP-bound token", scheme);
    }

    return Object.freeze({
      userId: sub,
      sessionId: sid,
      scopes: new Set(typeof scope === "string" && scope ? scope.split(" ") : []),
      expiresAt: exp!,
      jkt,
      claims: payload,
    });
  }

  return {
    verify,
    start: async () => {
      await revocations.start();
      await shareReplayStore();
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

/** A command connection to the feed's Redis, or null (memory) when there is no feed on Redis. */
async function replayConnection(
  feed: RevocationFeedOptions | undefined,
  onError: (error: unknown, context: string) => void,
): Promise<RedisCommandsLike | null> {
  const redis = feed?.redis;
  if (!redis) return null;
  if ("subscriber" in redis) {
    const duplicate = (redis.subscriber as { duplicate?: () => RedisCommandsLike }).duplicate;
    if (typeof duplicate === "function") return duplicate.call(redis.subscriber);
    onError(
      new Error("the subscriber has no duplicate(): pass dpopReplay.redis to share DPoP proof ids"),
      "dpop replay store",
    );
    return null;
  }
  // start() already loaded ioredis for the feed (it rejects when it cannot).
  const { Redis } = await import("ioredis");
  // Fails fast rather than queueing: while Redis does not answer, this replica's memory decides.
  const client = new Redis(redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 1000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  client.on("error", (error) => onError(error, "dpop replay store"));
  // Not reachable within 3 s: start anyway (the feed or the poll is up), it keeps reconnecting.
  const timeout = new Promise((resolve) => setTimeout(resolve, 3000).unref?.());
  await Promise.race([client.connect().catch(() => {}), timeout]);
  return client;
}

function asList(value: string | readonly string[] | null | undefined): readonly string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}
