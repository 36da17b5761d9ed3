import { UnauthenticatedError } from "../errors/app-error.js";
import type { RevocationSet } from "./sessions/revocation.js";
import { revokedTokenKey } from "./sessions/session-ending-rule.js";
import type { Viewer } from "./viewer.js";

/** The parts of an HTTP request that authentication reads. Header arrays hold every occurrence. */
export interface AuthHeaders {
  readonly authorization: readonly string[];
  readonly dpop: readonly string[];
  readonly method: string;
  /** True when the URL carries a token in its query (`access_token=`), which is refused. */
  readonly tokenInQuery: boolean;
}

export interface TokenVerifier {
  verify(token: string): Promise<Viewer>;
}

export interface ProofVerifier {
  /** Verifies the request's DPoP proof(s); resolves to the key thumbprint. */
  verify(input: {
    headerValues: readonly string[];
    method: string;
    accessToken?: string;
    expectedJkt?: string;
  }): Promise<{ jkt: string }>;
}

export interface Authentication {
  readonly viewer: Viewer | null;
  /** The thumbprint of the request's verified DPoP proof (login and refresh bind to it), or null. */
  readonly proofJkt: string | null;
}

/** Largest Authorization header accepted; a valid Holdfast token is far smaller. */
export const MAX_AUTHORIZATION_LENGTH = 8192;

/**
 * Headers → Viewer | null, without touching the database: verify the JWT (cached), the DPoP proof
 * when the token is bound, then the in-memory revocation set. No token means anonymous; a present
 * but bad token is an error (HTTP 401), never a silent downgrade to anonymous.
 */
export async function authenticate(
  headers: AuthHeaders,
  deps: { tokens: TokenVerifier; proofs: ProofVerifier; revocations: RevocationSet; dpopRequired: boolean },
): Promise<Authentication> {
  const proofFor = (accessToken?: string, expectedJkt?: string) =>
    deps.proofs.verify({
      headerValues: headers.dpop,
      method: headers.method,
      ...(accessToken ? { accessToken } : {}),
      ...(expectedJkt ? { expectedJkt } : {}),
    });

  if (headers.tokenInQuery)
    throw new UnauthenticatedError("invalid_token", "Tokens are not accepted in the URL");
  if (headers.authorization.length === 0) {
    // A proof without a token is for login or refresh. It is checked here, before any resolver,
    // so a bad proof or a nonce demand is a 401 like every other authentication failure.
    return { viewer: null, proofJkt: headers.dpop.length === 0 ? null : (await proofFor()).jkt };
  }
  if (headers.authorization.length > 1)
    throw new UnauthenticatedError("invalid_token", "More than one Authorization header");
  const value = headers.authorization[0]!;
  if (value.length > MAX_AUTHORIZATION_LENGTH)
    throw new UnauthenticatedError("invalid_token", "Authorization header too large");
  const match = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)$/i.exec(value);
  if (!match) throw new UnauthenticatedError("invalid_token", "Malformed Authorization header");
  const scheme = match[1]!.toLowerCase() === "dpop" ? "DPoP" : "Bearer";
  const token = match[2]!;

  const viewer = await deps.tokens.verify(token);
  if (deps.revocations.has(viewer.sessionId))
    throw new UnauthenticatedError("token_revoked", "The session of this token has ended");
  if (deps.revocations.has(revokedTokenKey(viewer.tokenId)))
    throw new UnauthenticatedError("token_revoked", "This token was revoked");
  let jkt: string | null = null;
  if (viewer.jkt) {
    // RFC 9449 §7.1: a bound token needs the DPoP scheme and a proof of the same key, with `ath`.
    if (scheme !== "DPoP" || headers.dpop.length === 0)
      throw new UnauthenticatedError(
        "dpop_required",
        "This token is bound to a key: use the DPoP scheme with a proof",
      );
    jkt = (await proofFor(token, viewer.jkt)).jkt;
  } else if (scheme === "DPoP") {
    throw new UnauthenticatedError("invalid_token", "The DPoP scheme needs a DPoP-bound token");
  } else if (deps.dpopRequired) {
    throw new UnauthenticatedError("dpop_required", "This server requires DPoP-bound tokens");
  }
  return { viewer, proofJkt: jkt };
}
