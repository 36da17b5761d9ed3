/**
 * When and how the session last proved its user: the RFC 9068 §2.2.1 claims `auth_time`, `acr`
 * and `amr` (RFC 8176 method names). Step-up rules (RFC 9470) decide from it.
 */
export interface UserAuthentication {
  /** Epoch seconds of the last active authentication (login or reauthenticate), not of the token. */
  readonly authTime: number;
  /** Authentication context class: `pwd` (password) or `phr` (phishing-resistant: a passkey). */
  readonly acr: string;
  readonly amr: readonly string[];
}

/** Who is calling, as proven by a verified access token. Built once per request, never from the database. */
export interface Viewer {
  readonly userId: string;
  /** The session (refresh-token family) the token belongs to: the `sid` claim. */
  readonly sessionId: string;
  readonly scopes: ReadonlySet<string>;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (`cnf.jkt`), or null for a Bearer token. */
  readonly jkt: string | null;
  /** The access token's `exp`, in epoch seconds. */
  readonly expiresAt: number;
  /** The access token's `jti`. */
  readonly tokenId: string;
  /** From `auth_time`/`acr`/`amr`; null for a token without them (it never passes a step-up rule). */
  readonly authentication: UserAuthentication | null;
  /** `authentication.authTime`, flat, as modules read it (DESIGN.md: `context.viewer.authTime`). */
  readonly authTime: number | null;
  /** `authentication.acr`, flat, likewise. */
  readonly acr: string | null;
}

/** A frozen Viewer whose flat `authTime` and `acr` agree with its `authentication`. */
export function viewerOf(fields: Omit<Viewer, "authTime" | "acr">): Viewer {
  return Object.freeze({
    ...fields,
    authTime: fields.authentication?.authTime ?? null,
    acr: fields.authentication?.acr ?? null,
  });
}

/** The claims of a Holdfast access token (RFC 9068 profile). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  sid: string;
  /** Space-separated scopes. */
  scope: string;
  cnf?: { jkt: string };
  auth_time?: number;
  acr?: string;
  amr?: string[];
}
