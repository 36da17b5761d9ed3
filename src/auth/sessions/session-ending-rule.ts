import { ForbiddenError } from "../../errors/app-error.js";

/**
 * The one rule for ending sessions, whatever the door (GraphQL `logout`, `logoutEverywhere`,
 * `revokeSession`, RFC 7009 `POST /oauth/revoke`). Every door asks `decideSessionEnding` and does
 * what it answers, so a token cannot do at one door what another refuses it.
 *
 * - Ending a session (or every session) is an account action: it needs `account:manage`, which
 *   `narrowToken` keeps only when named. A refresh token is the session itself: it may end it.
 * - A token without `account:manage` may still give itself up (RFC 7009 asks to revoke the token
 *   presented): only that token, by its `jti`, never its parent session.
 */
export const MANAGE_ACCOUNT = "account:manage";

/** What presents the request: an access token (with its scopes) or a refresh token. */
export type EndingCredential =
  | { readonly kind: "access_token"; readonly scopes: ReadonlySet<string> }
  | { readonly kind: "refresh_token" };

/** What the door asks for. */
export type EndingIntent =
  /** `logout`, `revokeSession` of one's own or another session. */
  | "end_session"
  /** `logoutEverywhere`. */
  | "end_every_session"
  /** RFC 7009: revoke the presented token (and what it belongs to, at the server's discretion). */
  | "revoke_presented_token";

/** What the door then ends: the session(s), only the presented access token, or nothing. */
export type Ending = "session" | "every_session" | "token" | "nothing";

export function decideSessionEnding(credential: EndingCredential, intent: EndingIntent): Ending {
  if (credential.kind === "refresh_token") return intent === "end_every_session" ? "nothing" : "session";
  const manages = credential.scopes.has(MANAGE_ACCOUNT);
  switch (intent) {
    case "end_session":
      return manages ? "session" : "nothing";
    case "end_every_session":
      return manages ? "every_session" : "nothing";
    case "revoke_presented_token":
      return manages ? "session" : "token";
  }
}

/** The refusal a door answers for "nothing": FORBIDDEN, naming the scope that is missing. */
export function sessionEndingRefused(): ForbiddenError {
  return new ForbiddenError([[MANAGE_ACCOUNT]], "Ending a session needs the account:manage scope");
}

/**
 * Revoked access tokens share the revocation set, bus and feed with sessions, under this key: every
 * instance, the subscription sweep, the security event feed and polling resource servers carry it
 * as they carry a session id (session ids never contain a colon).
 */
export function revokedTokenKey(jti: string): string {
  return `jti:${jti}`;
}
