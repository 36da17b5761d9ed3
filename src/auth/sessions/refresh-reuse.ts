import type { Clock } from "../../clock.js";
import { withDatabase } from "../../db/errors.js";
import { UnauthenticatedError } from "../../errors/app-error.js";
import type { UserModel } from "../../users/user-model.js";
import type { AuditLog } from "../audit-log.js";
import type { ClientInfo } from "../auth-payload.js";
import { hashRefreshToken, openSuccessor } from "./refresh-token.js";
import type { RefreshTokenStore } from "./refresh-token-store.js";
import { reuseVerdict } from "./rotation-rules.js";
import { type SessionModel, toSessionModel } from "./session-model.js";

export interface RefreshReuseDeps {
  refreshTokens: RefreshTokenStore;
  clock: Clock;
  audit: AuditLog;
  reuseGraceSeconds: number;
  /** Puts ended sessions on the revocation set and bus (the session service's own announce). */
  announce(sessionIds: readonly string[]): Promise<void>;
}

// A walk from a consumed token to the family's live tip is short in practice (a client that lost
// one or two responses); the bound only keeps a corrupted chain from looping.
const MAX_GRACE_WALK = 16;

/**
 * A consumed refresh token presented again (the rotation's "reuse" step): the same successor or the
 * live tip when safe (rotation-rules.ts decides), else theft, and the whole family ends.
 */
export class RefreshReuse {
  constructor(private readonly deps: RefreshReuseDeps) {}

  async answer<T>(
    row: { consumedAt: Date; sealedSuccessor: string | null },
    session: { id: string; userId: string; jkt: string | null } & Parameters<typeof toSessionModel>[0],
    user: UserModel,
    input: { refreshToken: string; jkt: string | null; client: ClientInfo },
    now: Date,
    prepare: (session: SessionModel, user: UserModel) => Promise<T>,
  ): Promise<{ session: SessionModel; refreshToken: string; user: UserModel; prepared: T }> {
    const walk = await this.walkToTip(input.refreshToken, row.sealedSuccessor);
    const verdict = reuseVerdict({
      // refusalOf has already refused a bound family without a proof from its key.
      provenKeyHolder: session.jkt !== null && session.jkt === input.jkt,
      successorUnused: walk?.steps === 1,
      consumedAt: row.consumedAt,
      now,
      graceSeconds: this.deps.reuseGraceSeconds,
    });
    if (verdict !== "theft" && walk) {
      const model = toSessionModel(session);
      return { session: model, refreshToken: walk.tip, user, prepared: await prepare(model, user) };
    }
    await this.revokeForReuse(session.id, session.userId, input.client);
    throw new UnauthenticatedError(
      "refresh_token_reused",
      "Refresh token was already used; the session has been ended",
    );
  }

  /**
   * A consumed token leads, through the successors sealed under each token, to the family's
   * current tip. `steps` is 1 when the token's own successor is that tip (it was never used).
   */
  private async walkToTip(
    token: string,
    sealed: string | null,
  ): Promise<{ tip: string; steps: number } | null> {
    let current = token;
    let next = sealed;
    for (let step = 1; step <= MAX_GRACE_WALK && next; step++) {
      const successor = openSuccessor(current, next);
      if (!successor) return null;
      const row = await withDatabase(() => this.deps.refreshTokens.findToken(hashRefreshToken(successor)));
      if (!row) return null;
      if (row.consumedAt === null) return { tip: successor, steps: step };
      current = successor;
      next = row.sealedSuccessor;
    }
    return null;
  }

  /** Theft: end the whole family, committed before the caller answers (RFC 9700 §4.14.2). */
  private async revokeForReuse(sessionId: string, userId: string, client: ClientInfo): Promise<void> {
    const { refreshTokens, clock } = this.deps;
    const now = clock.now();
    await withDatabase(() =>
      refreshTokens.revokeFamily({
        sessionId,
        now,
        reason: "refresh_token_reused",
        audit: this.deps.audit.row({ type: "refresh_token.reuse_detected", userId, sessionId, client }),
      }),
    );
    await this.deps.announce([sessionId]);
  }
}
