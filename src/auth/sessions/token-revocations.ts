import type { Clock } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import { withDatabase } from "../../db/errors.js";
import type { AuditLog } from "../audit-log.js";
import type { ClientInfo } from "../auth-payload.js";
import type { Revocation, RevocationBus, RevocationSet } from "./revocation.js";
import { revokedTokenKey } from "./session-ending-rule.js";

const TOKEN_REVOKED = "access_token.revoked";

/**
 * Per-token revocation (by `jti`), for a token that may give itself up but not its session (the
 * session-ending rule). The entry rides the sessions' revocation set, bus and feed under
 * `revokedTokenKey(jti)`, kept until that token's `exp` plus the clock tolerance; the audit row is
 * its record, so a restarted instance and a polling resource server learn it too (no new table).
 */
export class TokenRevocations {
  constructor(
    private readonly deps: {
      prisma: Prisma;
      clock: Clock;
      audit: AuditLog;
      revocations: RevocationSet;
      bus: RevocationBus;
      clockToleranceSeconds: number;
      /** The longest an access token lives: how far back the record is read. */
      accessTokenTtlSeconds: number;
    },
  ) {}

  async revoke(input: {
    jti: string;
    userId: string;
    sessionId: string;
    /** The token's `exp`, epoch seconds. */
    expiresAt: number;
    client: ClientInfo;
  }): Promise<void> {
    const until = new Date((input.expiresAt + this.deps.clockToleranceSeconds) * 1000);
    // The record first: a revocation the bus lost is still found by the next reload.
    await this.deps.audit.record({
      type: TOKEN_REVOKED,
      userId: input.userId,
      sessionId: input.sessionId,
      client: input.client,
      detail: { jti: input.jti, until: until.getTime() },
    });
    const revocation: Revocation = { sessionId: revokedTokenKey(input.jti), until };
    this.deps.revocations.add(revocation.sessionId, until);
    await this.deps.bus.publish([revocation]);
  }

  /** Token revocations still in force, from the record (for a restart or a poll). */
  async recent(): Promise<Revocation[]> {
    const now = this.deps.clock.now().getTime();
    const window = (this.deps.accessTokenTtlSeconds + this.deps.clockToleranceSeconds) * 1000;
    const rows = await withDatabase(() =>
      this.deps.prisma.auditEvent.findMany({
        where: { type: TOKEN_REVOKED, createdAt: { gte: new Date(now - window) } },
        select: { detail: true },
      }),
    );
    const revocations: Revocation[] = [];
    for (const row of rows) {
      const detail = JSON.parse(row.detail ?? "{}") as { jti?: unknown; until?: unknown };
      if (typeof detail.jti !== "string" || typeof detail.until !== "number" || detail.until <= now) continue;
      revocations.push({ sessionId: revokedTokenKey(detail.jti), until: new Date(detail.until) });
    }
    return revocations;
  }

  /** Loads the record into this instance's set. */
  async load(): Promise<number> {
    const recent = await this.recent();
    for (const r of recent) this.deps.revocations.add(r.sessionId, r.until);
    return recent.length;
  }
}
