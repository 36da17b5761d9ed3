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
}
