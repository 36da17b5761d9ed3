import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { ProofReplayStore } from "./proof-replay-store.js";
import { ResourceServerError } from "./resource-server-error.js";
import type { RevocationState } from "./revocation-state.js";
import { verifyResourceDpopProof } from "./verify-resource-dpop-proof.js";

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

/** What one verification needs, settled once by createResourceServerVerifier. */
export interface AccessTokenCheck {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: string[];
  readonly keys: JWTVerifyGetKey;
  readonly clockToleranceSeconds: number;
  readonly dpopIatWindowSeconds: number;
  /** undefined or Infinity: revocation state of any age is accepted. */
  readonly maxStalenessSeconds: number | undefined;
  readonly revocations: Pick<RevocationState, "isRevoked" | "stalenessMs">;
  /** Read per request: start() may move proof ids from memory to Redis. */
  readonly replayStore: () => ProofReplayStore;
  /** ms since the epoch. */
  readonly now: () => number;
  readonly resourceMetadata: string | undefined;
}

const TOKEN = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)$/i;
const MAX_AUTHORIZATION_LENGTH = 8192;

/**
 * The per-request half of the verifier: the signature against the keys (alg pinned, `typ: at+jwt`,
 * `iss`, `aud`, times), the claims, the revocations, and the DPoP proof when the token is bound.
 */
export async function verifyAccessToken(
  check: AccessTokenCheck,
  request: ProtectedRequest,
): Promise<VerifiedAccess> {
  const { revocations, now } = check;
  const refuse = (
    reason: ConstructorParameters<typeof ResourceServerError>[0],
    message: string,
    scheme: "Bearer" | "DPoP",
  ) => new ResourceServerError(reason, message, scheme, check.resourceMetadata);

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
    ({ payload } = await jwtVerify(token, check.keys, {
      issuer: check.issuer,
      audience: check.audience,
      algorithms: check.algorithms,
      typ: "at+jwt",
      requiredClaims: ["exp", "iat", "sub", "sid", "jti"],
      clockTolerance: check.clockToleranceSeconds,
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
  const limit = check.maxStalenessSeconds;
  if (limit !== undefined && Number.isFinite(limit)) {
    const staleness = revocations.stalenessMs();
    if (staleness === null || staleness > limit * 1000)
      throw refuse("revocation_state_stale", "Revocations cannot be checked now", scheme);
  }

  if (jkt) {
    // RFC 9449 §7.1: a bound token needs the DPoP scheme and a proof of the same key.
    const proof = asList(request.dpop);
    if (scheme !== "DPoP" || proof.length === 0)
      throw refuse("dpop_required", "This token is bound to a key: use the DPoP scheme with a proof", "DPoP");
    await verifyResourceDpopProof({
      proof,
      method: request.method,
      url: request.url,
      accessToken: token,
      expectedJkt: jkt,
      nowSeconds: Math.floor(now() / 1000),
      iatWindowSeconds: check.dpopIatWindowSeconds,
      // Per key: one client's ids never collide with another's.
      remember: (jti, untilSeconds) => check.replayStore().remember(`${jkt}:${jti}`, untilSeconds),
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

function asList(value: string | readonly string[] | null | undefined): readonly string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}
