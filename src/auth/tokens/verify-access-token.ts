import { type CryptoKey, errors, type JWTPayload, jwtVerify } from "jose";
import { LRUCache } from "lru-cache";
import { type Clock, epochSeconds } from "../../clock.js";
import { UnauthenticatedError } from "../../errors/app-error.js";
import type { KeyStore } from "../keys/key-store.js";
import type { SigningAlg } from "../keys/signing-key-material.js";
import { type UserAuthentication, type Viewer, viewerOf } from "../viewer.js";
import { isAuthentication, isJkt, isScopeList } from "./claim-syntax.js";
import { parseCompactJwt } from "./parse-compact-jwt.js";

export interface AccessTokenVerifierDeps {
  keys: Pick<KeyStore, "verificationKey">;
  clock: Clock;
  config: {
    issuer: string;
    audience: string;
    alg: SigningAlg;
    clockToleranceSeconds: number;
    accessTokenTtlSeconds: number;
    /** Verified tokens kept in memory; 0 disables the cache. */
    cacheSize: number;
  };
}

interface CachedToken {
  readonly viewer: Viewer;
  readonly kid: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

const REQUIRED_CLAIMS = ["exp", "iat", "nbf", "jti", "sub", "sid"];

/**
 * Turns a bearer string into a Viewer, or throws UnauthenticatedError: `token_expired` only for
 * a token whose signature and other claims are good but whose time is up (the client should
 * refresh), `invalid_token` for everything else. Revocation is the caller's check.
 */
export class AccessTokenVerifier {
  readonly #keys: Pick<KeyStore, "verificationKey">;
  readonly #clock: Clock;
  readonly #config: AccessTokenVerifierDeps["config"];
  /**
   * Keyed by the exact token string, so a hit is a token whose bytes were already verified. An
   * entry's lifetime is judged on every hit from the injected clock, not by lru-cache's timer.
   */
  readonly #cache: LRUCache<string, CachedToken> | null;

  constructor(deps: AccessTokenVerifierDeps) {
    const { config } = deps;
    if (config.alg !== "EdDSA" && config.alg !== "ES256")
      throw new TypeError(`unsupported alg ${config.alg}`);
    if (!Number.isInteger(config.cacheSize) || config.cacheSize < 0)
      throw new RangeError("cacheSize must be >= 0");
    this.#keys = deps.keys;
    this.#clock = deps.clock;
    this.#config = config;
    this.#cache = config.cacheSize > 0 ? new LRUCache({ max: config.cacheSize }) : null;
  }

  async verify(token: string): Promise<Viewer> {
    const cached = this.#cache?.get(token);
    if (cached !== undefined) return this.#recheck(token, cached);

    const header = parseCompactJwt(token);
    if (header === null || header.alg !== this.#config.alg) throw invalid();

    const { issuer, audience, alg, clockToleranceSeconds, accessTokenTtlSeconds } = this.#config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#resolveKey, {
        algorithms: [alg],
        issuer,
        audience,
        typ: "at+jwt",
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: clockToleranceSeconds,
        // jose allows age up to maxTokenAge + clockTolerance, so this is "ttl + tolerance".
        maxTokenAge: accessTokenTtlSeconds,
        currentDate: this.#clock.now(),
      }));
    } catch (error) {
      // jose checks times only after the signature and the other claims, so this is our token.
      if (error instanceof errors.JWTExpired) throw new UnauthenticatedError("token_expired");
      throw invalid();
    }

    const entry = toCachedToken(header.kid, payload, clockToleranceSeconds);
    if (entry === null) throw invalid();
    this.#cache?.set(token, entry);
    return entry.viewer;
  }

  /** Only our own keys, looked up by kid; the header has already been limited to alg, kid, typ. */
  readonly #resolveKey = (header: { kid?: string | undefined; alg?: string | undefined }): CryptoKey => {
    const key =
      typeof header.kid === "string" && header.alg === this.#config.alg
        ? this.#keys.verificationKey(header.kid, header.alg)
        : undefined;
    if (key === undefined) throw new errors.JWKSNoMatchingKey();
    return key;
  };

  /** The same time rules jose applies on a miss, plus: the signing key must still be valid. */
  #recheck(token: string, entry: CachedToken): Viewer {
    const now = epochSeconds(this.#clock.now());
    const { clockToleranceSeconds: tolerance, accessTokenTtlSeconds: ttl, alg } = this.#config;
    if (entry.nbf > now + tolerance || entry.iat > now + tolerance) {
      this.#cache?.delete(token);
      throw invalid();
    }
    if (entry.exp <= now - tolerance || now - entry.iat - tolerance > ttl) {
      this.#cache?.delete(token);
      throw new UnauthenticatedError("token_expired");
    }
    if (this.#keys.verificationKey(entry.kid, alg) === undefined) {
      this.#cache?.delete(token);
      throw invalid();
    }
    return entry.viewer;
  }
}

function invalid(): UnauthenticatedError {
  return new UnauthenticatedError("invalid_token");
}

const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Claim checks jose does not make. Null when a claim has the wrong type or shape. */
function toCachedToken(kid: string, payload: JWTPayload, toleranceSeconds: number): CachedToken | null {
  const { sub, sid, jti, iat, nbf, exp, scope, cnf, auth_time, acr, amr } = payload as Record<
    string,
    unknown
  >;
  if (!nonEmpty(sub) || !nonEmpty(sid) || !nonEmpty(jti)) return null;
  if (typeof iat !== "number" || typeof nbf !== "number" || typeof exp !== "number") return null;
  // An absent scope grants nothing; a present one must be an RFC 6749 §3.3 space-separated string.
  if (scope !== undefined && (typeof scope !== "string" || !isScopeList(scope))) return null;
  let jkt: string | null = null;
  if (cnf !== undefined) {
    // RFC 9449 §6.1: cnf carries jkt. Any other confirmation method we could not enforce: refuse.
    if (typeof cnf !== "object" || cnf === null || Array.isArray(cnf)) return null;
    const members = Object.keys(cnf);
    const value = (cnf as Record<string, unknown>).jkt;
    if (members.length !== 1 || !isJkt(value)) return null;
    jkt = value;
  }
  // RFC 9068 §2.2.1: the three travel together; a partial or malformed set is not our token.
  let authentication: UserAuthentication | null = null;
  if (auth_time !== undefined || acr !== undefined || amr !== undefined) {
    const claims = { authTime: auth_time, acr, amr };
    if (!isAuthentication(claims, iat, toleranceSeconds)) return null;
    authentication = Object.freeze({
      authTime: auth_time as number,
      acr: acr as string,
      amr: Object.freeze([...(amr as string[])]),
    });
  }
  const viewer: Viewer = viewerOf({
    userId: sub,
    sessionId: sid,
    scopes: new ReadonlyScopeSet(scope ? scope.split(" ") : []),
    jkt,
    expiresAt: exp,
    tokenId: jti,
    authentication,
  });
  return { viewer, kid, iat, nbf, exp };
}

/** A cached Viewer is shared by every request that presents the token, so its scopes cannot be edited. */
class ReadonlyScopeSet extends Set<string> {
  #sealed = false;
  constructor(values: Iterable<string>) {
    super();
    for (const value of values) super.add(value);
    this.#sealed = true;
  }
  override add(value: string): this {
    if (this.#sealed) throw new TypeError("Viewer scopes are read-only");
    return super.add(value);
  }
  override delete(_value: string): boolean {
    throw new TypeError("Viewer scopes are read-only");
  }
  override clear(): void {
    throw new TypeError("Viewer scopes are read-only");
  }
}
