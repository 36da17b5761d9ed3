import type { Clock } from "../clock.js";
import type { Prisma } from "../db/database.js";
import { newId } from "../ids.js";
import type { ClientInfo } from "./auth-payload.js";

export type AuditEventType =
  | "user.registered"
  | "login.succeeded"
  | "login.failed"
  | "refresh_token.rotated"
  | "refresh_token.reuse_detected"
  | "session.logged_out"
  | "session.revoked"
  | "password.changed"
  | "signing_key.rotated"
  | "session.reauthenticated"
  | "reauthentication.failed"
  | "passkey.added"
  | "passkey.removed"
  | "passkey.failed";

export interface AuditEvent {
  type: AuditEventType;
  userId?: string | null;
  sessionId?: string | null;
  client?: ClientInfo;
  /** Never a token, a password or a hash. */
  detail?: Record<string, string | number | boolean | null>;
}

/** Security events in the database: who, which session, from where, when. */
export class AuditLog {
  constructor(
    private readonly prisma: Prisma,
    private readonly clock: Clock,
  ) {}

  /** The Prisma create, for callers that batch it with their own write. */
  entry(event: AuditEvent) {
    const now = this.clock.now();
    return this.prisma.auditEvent.create({
      data: {
        id: newId(now),
        type: event.type,
        userId: event.userId ?? null,
        sessionId: event.sessionId ?? null,
        ip: event.client?.ip ?? null,
        userAgent: event.client?.userAgent ?? null,
        detail: event.detail ? JSON.stringify(event.detail) : null,
        createdAt: now,
      },
    });
  }

  async record(event: AuditEvent): Promise<void> {
    await this.entry(event);
  }
}
