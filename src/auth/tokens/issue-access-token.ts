import { randomBytes } from "node:crypto";
import { type Clock, epochSeconds } from "../../clock.js";
import type { KeyStore } from "../keys/key-store.js";
import type { AccessTokenClaims, UserAuthentication } from "../viewer.js";
import { isAuthentication, isJkt, isScopeToken } from "./claim-syntax.js";
import { signCompactJws } from "./sign-compact-jws.js";

export interface IssueAccessTokenDeps {
  keys: Pick<KeyStore, "signingKey">;
  clock: Clock;
  config: { issuer: string; audience: string; accessTokenTtlSeconds: number };
}

export interface IssueAccessTokenInput {
  userId: string;
  sessionId: string;
  scopes: readonly string[];
  /** RFC 7638 thumbprint of the client's DPoP key; binds the token to it (RFC 9449 §6). */
  jkt?: string | null;
  /** Shorter than the configured lifetime (narrowed tokens); never longer. */
  ttlSeconds?: number;
  /** The session's last authentication: `auth_time`, `acr`, `amr` (RFC 9068 §2.2.1). */
  authentication?: UserAuthentication | null;
}

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
  jti: string;
  claims: AccessTokenClaims;
}

/** Signs an access token in the RFC 9068 profile, timed by the injected clock. */
export async function issueAccessToken(
  deps: IssueAccessTokenDeps,
  input: IssueAccessTokenInput,
): Promise<IssuedAccessToken> {
  const { clock, config } = deps;
  const ttlSeconds = input.ttlSeconds ?? config.accessTokenTtlSeconds;
  // The verifier caps token age at the configured lifetime, and retired keys are kept only that long.
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > config.accessTokenTtlSeconds) {
    throw new RangeError(`ttlSeconds must be an integer in 1..${config.accessTokenTtlSeconds}`);
  }
  if (typeof input.userId !== "string" || input.userId === "") throw new TypeError("userId is required");
  if (typeof input.sessionId !== "string" || input.sessionId === "")
    throw new TypeError("sessionId is required");
  const scopes = [...new Set(input.scopes)];
  const bad = scopes.find((s) => !isScopeToken(s));
  if (bad !== undefined) throw new TypeError(`invalid scope token ${JSON.stringify(bad)} (RFC 6749 §3.3)`);
  const jkt = input.jkt ?? null;
  if (jkt !== null && !isJkt(jkt)) throw new TypeError("jkt must be a base64url SHA-256 JWK thumbprint");

  const iat = epochSeconds(clock.now());
  const given = input.authentication ?? null;
  // A session's auth_time was recorded by whichever instance signed the user in; when that
  // instance's clock runs ahead of this one, it lies in this clock's future. Clamped to iat: the
  // claim must not follow iat (RFC 9068 §2.2.1), and an earlier auth_time only makes a max_age
  // check stricter, never looser.
  const authentication =
    given !== null && Number.isInteger(given.authTime) && given.authTime > iat
      ? { ...given, authTime: iat }
      : given;
  if (authentication !== null && !isAuthentication(authentication, iat))
    throw new TypeError("authentication must have an integer authTime not after now, an acr and amr");
  const claims: AccessTokenClaims = {
    iss: config.issuer,
    aud: config.audience,
    sub: input.userId,
    iat,
    nbf: iat,
    exp: iat + ttlSeconds,
    jti: randomBytes(16).toString("base64url"),
    sid: input.sessionId,
    scope: scopes.join(" "),
    ...(jkt !== null ? { cnf: { jkt } } : {}),
    ...(authentication !== null
      ? { auth_time: authentication.authTime, acr: authentication.acr, amr: [...authentication.amr] }
      : {}),
  };
  const { kid, alg, keyObject } = deps.keys.signingKey();
  // RFC 9068 §2.1: typ "at+jwt", so an access token cannot pass for an ID token or other JWT.
  const token = signCompactJws({ alg, kid, typ: "at+jwt" }, claims, alg, keyObject);
  return { token, expiresAt: new Date(claims.exp * 1000), jti: claims.jti, claims };
}
