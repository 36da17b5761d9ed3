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
  | "passkey.failed"
  | "access_token.revoked";

export interface AuditEvent {
  type: AuditEventType;
  userId?: string | null;
  sessionId?: string | null;
  client?: ClientInfo;
  /** Never a token, a password or a hash. */
  detail?: Record<string, string | number | boolean | null>;
}

/** An audit row as stored, for the hot paths that write it with their own statement. */
export interface AuditRow {
  id: string;
  type: AuditEventType;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: string | null;
  createdAt: Date;
}

/** Security events in the database: who, which session, from where, when. */
export class AuditLog {
  constructor(
    private readonly prisma: Prisma,
    private readonly clock: Clock,
  ) {}

  /** The Prisma create, for callers that batch it with their own write. */
  entry(event: AuditEvent) {
    return this.prisma.auditEvent.create({ data: this.row(event) });
  }

  /** The row for `event`, for callers that write it inside their own statement. */
  row(event: AuditEvent): AuditRow {
    const now = this.clock.now();
    return {
      id: newId(now),
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      ip: event.client?.ip ?? null,
      userAgent: event.client?.userAgent ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
      createdAt: now,
    };
  }

  async record(event: AuditEvent): Promise<void> {
    await this.entry(event);
  }
}
