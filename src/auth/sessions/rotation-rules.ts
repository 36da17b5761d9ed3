import { UnauthenticatedError } from "../../errors/app-error.js";

// The decisions of a refresh rotation, apart from how the rows are read and written: every rule
// here is pure and takes the clock's `now`, so the session service (and any faster data access
// behind it) applies the same rules, and tests can probe their edges.

export interface RotatableSession {
  readonly jkt: string | null;
  readonly revokedAt: Date | null;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
}

/**
 * Why a presented (well-formed, known) refresh token cannot be used at all, or null. Checked before
 * anything is written, in the reference order: ended → binding → expiry.
 */
export function refusalOf(
  session: RotatableSession,
  proofJkt: string | null,
  now: Date,
): UnauthenticatedError | null {
  // Ended, expired and unknown answer alike (one code, reason and message): the answer must not tell
  // a token holder whether the token ever existed (RFC 6749 §5.2 `invalid_grant` for all of them).
  if (session.revokedAt) return new UnauthenticatedError("invalid_refresh_token");
  // RFC 9449 §5: a refresh token bound to a key is only usable with a proof from that key.
  if (session.jkt !== null && session.jkt !== proofJkt) {
    return new UnauthenticatedError(proofJkt === null ? "dpop_required" : "invalid_dpop_proof");
  }
  if (now >= session.absoluteExpiresAt || now >= session.idleExpiresAt) {
    return new UnauthenticatedError("invalid_refresh_token");
  }
  return null;
}

/**
 * What a consumed refresh token presented again gets. Either the answer to its rotation was lost
 * (a flaky network, a crash or a restart after the commit) and the client retries, or a copy is
 * being replayed (RFC 9700 §4.14.2: then the whole family ends).
 *
 * - `successor`: the family is bound to a DPoP key and the proof came from that key
 *   (`refusalOf` checked it), and the token's successor was never used. Only the key's holder can
 *   present this, so it is the owner whose answer was lost: it gets that successor again, however
 *   late it retries. A thief with a copied token but not the key never gets here.
 * - `live_tip`: within the grace interval, any family: the family's current token, never a new
 *   branch (a bearer client's retry after a lost answer). Past it a bearer token is treated as
 *   stolen: a bearer copy and a bearer retry cannot be told apart.
 * - `theft`: revoke the family.
 */
export type ReuseVerdict = "successor" | "live_tip" | "theft";

export function reuseVerdict(input: {
  /** The family is bound to a key, and the request's proof was made with it. */
  readonly provenKeyHolder: boolean;
  /** The token's own successor exists and is still unconsumed. */
  readonly successorUnused: boolean;
  readonly consumedAt: Date;
  readonly now: Date;
  readonly graceSeconds: number;
}): ReuseVerdict {
  if (input.provenKeyHolder && input.successorUnused) return "successor";
  const consumedAgoMs = input.now.getTime() - input.consumedAt.getTime();
  return consumedAgoMs < input.graceSeconds * 1000 ? "live_tip" : "theft";
}
