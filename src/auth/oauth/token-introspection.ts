import { decodeJwt } from "jose";
import { type Clock, epochSeconds } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import type { TokenVerifier } from "../authenticate.js";
import type { RevocationSet } from "../sessions/revocation.js";
import { revokedTokenKey } from "../sessions/session-ending-rule.js";
import { findRefreshToken, isSessionRevoked } from "./refresh-token-lookup.js";

export type TokenTypeHint = "access_token" | "refresh_token";

/** RFC 7662 §2.2. An inactive token says nothing else: not why, not whether it ever existed. */
export type IntrospectionResponse =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly sub: string;
      readonly scope: string;
      readonly exp: number;
      readonly iat: number;
      readonly sid: string;
      readonly iss?: string;
      readonly aud?: string | string[];
      readonly nbf?: number;
      readonly jti?: string;
      /** RFC 6749 §7.1 token type of an access token: `DPoP` when bound (RFC 9449 §6), else `Bearer`. */
      readonly token_type?: "DPoP" | "Bearer";
      /** RFC 9449 §6.2: the key the token is bound to. */
      readonly cnf?: { readonly jkt: string };
    };

export interface IntrospectionDeps {
  readonly tokens: TokenVerifier;
  readonly revocations: RevocationSet;
  readonly prisma: Prisma;
  readonly clock: Clock;
  /** Told when the database could not be asked, and the in-memory revocation set decided alone. */
  readonly onDatabaseError?: (error: unknown) => void;
}

const INACTIVE = Object.freeze({ active: false as const });

/**
 * Everything Holdfast knows about a token, for a resource server (RFC 7662). An access token is
 * active when its signature (by a key still published), claims and times pass, and its session is not
 * revoked — in memory (fed by the bus within a second) or in the database (the shared record, so an
 * instance that missed a message still answers right). A refresh token is active while it is its
 * family's current token and the session is live.
 */
export async function introspectToken(
  deps: IntrospectionDeps,
  token: string,
  hint?: string,
): Promise<IntrospectionResponse> {
  // RFC 7662 §2.1: the hint orders the lookups; an unknown hint is ignored.
  if (hint === "refresh_token")
    return (await introspectRefresh(deps, token)) ?? (await introspectAccess(deps, token)) ?? INACTIVE;
  return (await introspectAccess(deps, token)) ?? (await introspectRefresh(deps, token)) ?? INACTIVE;
}

async function introspectAccess(
  deps: IntrospectionDeps,
  token: string,
): Promise<IntrospectionResponse | null> {
  if (!token.includes(".")) return null;
  let viewer: Awaited<ReturnType<TokenVerifier["verify"]>>;
  try {
    viewer = await deps.tokens.verify(token);
  } catch {
    // Expired, forged, signed by a retired key: all simply inactive.
    return INACTIVE;
  }
  if (deps.revocations.has(viewer.sessionId) || deps.revocations.has(revokedTokenKey(viewer.tokenId)))
    return INACTIVE;
  try {
    if (await isSessionRevoked(deps.prisma, viewer.sessionId)) return INACTIVE;
  } catch (error) {
    // Database down: the in-memory set (fed by the bus) decides, as it does for Holdfast's own requests.
    deps.onDatabaseError?.(error);
  }
  const claims = decodeJwt(token);
  return {
    active: true,
    sub: viewer.userId,
    scope: [...viewer.scopes].join(" "),
    exp: viewer.expiresAt,
    iat: claims.iat ?? viewer.expiresAt,
    ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
    sid: viewer.sessionId,
    ...(claims.iss !== undefined ? { iss: claims.iss } : {}),
    ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    jti: viewer.tokenId,
    token_type: viewer.jkt ? "DPoP" : "Bearer",
    ...(viewer.jkt ? { cnf: { jkt: viewer.jkt } } : {}),
  };
}

async function introspectRefresh(
  deps: IntrospectionDeps,
  token: string,
): Promise<IntrospectionResponse | null> {
  const record = await findRefreshToken(deps.prisma, token);
  if (!record) return null;
  const now = deps.clock.now();
  if (record.revoked || record.consumed || now >= record.expiresAt || deps.revocations.has(record.sessionId))
    return INACTIVE;
  return {
    active: true,
    sub: record.userId,
    scope: record.scopes,
    exp: epochSeconds(record.expiresAt),
    iat: epochSeconds(record.issuedAt),
    sid: record.sessionId,
    ...(record.jkt ? { cnf: { jkt: record.jkt } } : {}),
  };
}
