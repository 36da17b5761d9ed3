import type { AuditRow } from "../audit-log.js";

/** One refresh token, as the rotation reads it. */
export interface RefreshTokenRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly consumedAt: Date | null;
  readonly sealedSuccessor: string | null;
}

/** The session (family) a token belongs to, as stored. */
export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly scopes: string;
  readonly jkt: string | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly revokedAt: Date | null;
  /** The session's last authentication (RFC 9068 §2.2.1); null for sessions older than the column. */
  readonly authTime: Date | null;
  readonly acr: string;
  readonly amr: string;
}

/** The session's user: every field but the password hash. */
export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: string;
  readonly createdAt: Date;
}

export interface FoundRefreshToken {
  /**
   * The database's time when the token was read. Every decision of the rotation (expiry, grace,
   * reuse) and the times it writes use it, so two instances whose clocks differ decide alike.
   */
  readonly now: Date;
  readonly token: RefreshTokenRecord;
  readonly session: SessionRecord;
  readonly user: UserRecord;
}

export interface ConsumeInput {
  /** The token being rotated. */
  readonly tokenId: string;
  readonly sessionId: string;
  readonly now: Date;
  /** The successor, sealed under the rotated token (refresh-token.ts). */
  readonly sealedSuccessor: string;
  readonly successor: { readonly id: string; readonly tokenHash: string };
  readonly idleExpiresAt: Date;
  readonly ip: string | null;
  readonly audit: AuditRow;
}

/** A new family: the session, its first refresh token and the login's audit row. */
export interface StartFamilyInput {
  readonly session: SessionRecord;
  readonly token: { readonly id: string; readonly tokenHash: string };
  readonly audit: AuditRow;
}

/**
 * A new session's columns in the order both stores' session INSERT lists them:
 * id, userId, scopes, jkt, userAgent, ip, createdAt, lastUsedAt, idleExpiresAt, absoluteExpiresAt,
 * authTime, acr, amr. `time` writes a date the way the driver stores it.
 */
export function sessionInsertValues(s: SessionRecord, time: (date: Date) => string): unknown[] {
  return [
    s.id,
    s.userId,
    s.scopes,
    s.jkt,
    s.userAgent,
    s.ip,
    time(s.createdAt),
    time(s.lastUsedAt),
    time(s.idleExpiresAt),
    time(s.absoluteExpiresAt),
    s.authTime === null ? null : time(s.authTime),
    s.acr,
    s.amr,
  ];
}

export interface RevokeFamilyInput {
  readonly sessionId: string;
  readonly now: Date;
  readonly reason: string;
  readonly audit: AuditRow;
}

/**
 * The data access of a refresh rotation (and of the login that starts a family), in as few round
 * trips as the database allows: the token
 * with its session and user in one statement; the compare-and-set, the successor, the session's
 * touch and the audit row in one more (PostgreSQL: one statement of CTEs; SQLite: one transaction
 * of prepared statements). Prisma's query compiler costs more CPU than the whole rotation, so
 * these go to the driver underneath it. The same contract test runs against both (test/graphql/).
 */
export interface RefreshTokenStore {
  /** Writes a new family (a login), all or nothing. */
  start(input: StartFamilyInput): Promise<void>;
  /** The token by its hash, with its session and the session's user; null when unknown. */
  find(tokenHash: string): Promise<FoundRefreshToken | null>;
  /** The token alone (the grace walk along sealed successors). */
  findToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Consumes the token and writes its successor, the session's new idle expiry and the audit row,
   * all or nothing. Compare-and-set: only an unconsumed token is consumed, and the successor's
   * unique parentId forbids a second one, so of N concurrent calls exactly one returns true.
   */
  consume(input: ConsumeInput): Promise<boolean>;
  /** Ends the family (if not already ended) and writes the audit row, all or nothing. */
  revokeFamily(input: RevokeFamilyInput): Promise<void>;
  /** A user's sessions that are neither revoked nor expired at `now`, most recently used first. */
  liveSessions(userId: string, now: Date): Promise<SessionRecord[]>;
}
