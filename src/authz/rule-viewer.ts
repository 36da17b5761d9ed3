/**
 * What permission rules read of the caller. auth's `Viewer` (src/auth/viewer.ts) satisfies it
 * structurally: authz imports no service, so it names only the facts it decides from.
 */
export interface RuleViewer {
  readonly userId: string;
  /** The session (`sid`) the token belongs to. */
  readonly sessionId: string;
  readonly scopes: ReadonlySet<string>;
  /** RFC 9068 §2.2.1 `auth_time` and `acr` for step-up rules (RFC 9470); null when the token has none. */
  readonly authentication: { readonly authTime: number; readonly acr: string } | null;
}
