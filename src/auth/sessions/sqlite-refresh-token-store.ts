import type Sqlite from "better-sqlite3";
import type { Clock } from "../../clock.js";
import {
  isDriverUniqueViolation,
  sqliteDate,
  sqliteNullableDate,
  sqliteOutsideTransaction,
  sqliteTimestamp,
} from "../../db/driver-sql.js";
import {
  type ConsumeInput,
  type FoundRefreshToken,
  type RefreshTokenRecord,
  type RefreshTokenStore,
  type RevokeFamilyInput,
  type SessionRecord,
  type StartFamilyInput,
  sessionInsertValues,
} from "./refresh-token-store.js";

type Row = Record<string, unknown>;

/**
 * Prepared statements on Prisma's own better-sqlite3 connection. Every call waits until no Prisma
 * transaction is open on it, then runs synchronously: a write is one `BEGIN IMMEDIATE … COMMIT`
 * that nothing else in the process can interleave with.
 */
export class SqliteRefreshTokenStore implements RefreshTokenStore {
  readonly #find: Sqlite.Statement;
  readonly #findToken: Sqlite.Statement;
  readonly #liveSessions: Sqlite.Statement;
  readonly #consume: (input: ConsumeInput) => boolean;
  readonly #revokeFamily: (input: RevokeFamilyInput) => void;
  readonly #start: (input: StartFamilyInput) => void;

  /** `clock`: the embedded file's database runs on this host, so its clock is the host's. */
  constructor(
    private readonly connection: Sqlite.Database,
    private readonly clock: Clock,
  ) {
    this.#find = connection
      .prepare(
        `SELECT t.id AS tokenId, t.consumedAt, t.sealedSuccessor,
  s.id, s.userId, s.scopes, s.jkt, s.userAgent, s.ip, s.createdAt, s.lastUsedAt,
  s.idleExpiresAt, s.absoluteExpiresAt, s.revokedAt, s.authTime, s.acr, s.amr,
  u.email AS userEmail, u.displayName AS userDisplayName, u.role AS userRole, u.createdAt AS userCreatedAt
FROM holdfast_RefreshToken t
JOIN holdfast_Session s ON s.id = t.sessionId
JOIN holdfast_User u ON u.id = s.userId
WHERE t.tokenHash = ?`,
      )
      .safeIntegers(false);
    this.#findToken = connection
      .prepare(
        "SELECT id, sessionId, consumedAt, sealedSuccessor FROM holdfast_RefreshToken WHERE tokenHash = ?",
      )
      .safeIntegers(false);
    // Timestamps are ISO 8601 text of one fixed shape (sqliteTimestamp), so text order is time order.
    this.#liveSessions = connection
      .prepare(
        `SELECT id, userId, scopes, jkt, userAgent, ip, createdAt, lastUsedAt, idleExpiresAt, absoluteExpiresAt, revokedAt,
  authTime, acr, amr
FROM holdfast_Session
WHERE userId = ? AND revokedAt IS NULL AND idleExpiresAt > ? AND absoluteExpiresAt > ?
ORDER BY lastUsedAt DESC`,
      )
      .safeIntegers(false);
    // The compare-and-set: only an unconsumed token matches.
    const consumeToken = connection.prepare(
      `UPDATE holdfast_RefreshToken SET consumedAt = ?, sealedSuccessor = ? WHERE id = ? AND consumedAt IS NULL`,
    );
    const insertToken = connection.prepare(
      `INSERT INTO holdfast_RefreshToken (id, sessionId, tokenHash, parentId, createdAt) VALUES (?, ?, ?, ?, ?)`,
    );
    const touchSession = connection.prepare(
      `UPDATE holdfast_Session SET lastUsedAt = ?, idleExpiresAt = ?, ip = ? WHERE id = ? AND revokedAt IS NULL`,
    );
    const revokeSession = connection.prepare(
      `UPDATE holdfast_Session SET revokedAt = ?, revokedReason = ? WHERE id = ? AND revokedAt IS NULL`,
    );
    const insertAudit = connection.prepare(
      `INSERT INTO holdfast_AuditEvent (id, type, userId, sessionId, ip, userAgent, detail, createdAt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const audit = (row: ConsumeInput["audit"]) =>
      insertAudit.run(
        row.id,
        row.type,
        row.userId,
        row.sessionId,
        row.ip,
        row.userAgent,
        row.detail,
        sqliteTimestamp(row.createdAt),
      );
    const consume = connection.transaction((input: ConsumeInput): boolean => {
      const now = sqliteTimestamp(input.now);
      if (consumeToken.run(now, input.sealedSuccessor, input.tokenId).changes !== 1) return false;
      insertToken.run(input.successor.id, input.sessionId, input.successor.tokenHash, input.tokenId, now);
      touchSession.run(now, sqliteTimestamp(input.idleExpiresAt), input.ip, input.sessionId);
      audit(input.audit);
      return true;
    });
    this.#consume = (input) => consume.immediate(input);
    const revokeFamily = connection.transaction((input: RevokeFamilyInput) => {
      revokeSession.run(sqliteTimestamp(input.now), input.reason, input.sessionId);
      audit(input.audit);
    });
    this.#revokeFamily = (input) => revokeFamily.immediate(input);
    const insertSession = connection.prepare(
      `INSERT INTO holdfast_Session (id, userId, scopes, jkt, userAgent, ip, createdAt, lastUsedAt, idleExpiresAt,
  absoluteExpiresAt, authTime, acr, amr)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const start = connection.transaction(({ session: s, token, audit: row }: StartFamilyInput) => {
      insertSession.run(...sessionInsertValues(s, sqliteTimestamp));
      insertToken.run(token.id, s.id, token.tokenHash, null, sqliteTimestamp(s.createdAt));
      audit(row);
    });
    this.#start = (input) => start.immediate(input);
  }

  async start(input: StartFamilyInput): Promise<void> {
    await sqliteOutsideTransaction(this.connection);
    this.#start(input);
  }

  async find(tokenHash: string): Promise<FoundRefreshToken | null> {
    await sqliteOutsideTransaction(this.connection);
    const r = this.#find.get(tokenHash) as Row | undefined;
    if (!r) return null;
    return {
      now: this.clock.now(),
      token: {
        id: String(r.tokenId),
        sessionId: String(r.id),
        consumedAt: sqliteNullableDate(r.consumedAt),
        sealedSuccessor: (r.sealedSuccessor as string | null) ?? null,
      },
      session: toSessionRecord(r),
      user: {
        id: String(r.userId),
        email: String(r.userEmail),
        displayName: String(r.userDisplayName),
        role: String(r.userRole),
        createdAt: sqliteDate(r.userCreatedAt),
      },
    };
  }

  async liveSessions(userId: string, now: Date): Promise<SessionRecord[]> {
    await sqliteOutsideTransaction(this.connection);
    const at = sqliteTimestamp(now);
    return (this.#liveSessions.all(userId, at, at) as Row[]).map(toSessionRecord);
  }

  async findToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    await sqliteOutsideTransaction(this.connection);
    const r = this.#findToken.get(tokenHash) as Row | undefined;
    if (!r) return null;
    return {
      id: String(r.id),
      sessionId: String(r.sessionId),
      consumedAt: sqliteNullableDate(r.consumedAt),
      sealedSuccessor: (r.sealedSuccessor as string | null) ?? null,
    };
  }

  async consume(input: ConsumeInput): Promise<boolean> {
    await sqliteOutsideTransaction(this.connection);
    try {
      return this.#consume(input);
    } catch (error) {
      if (isDriverUniqueViolation(error)) return false;
      throw error;
    }
  }

  async revokeFamily(input: RevokeFamilyInput): Promise<void> {
    await sqliteOutsideTransaction(this.connection);
    this.#revokeFamily(input);
  }
}

function toSessionRecord(r: Row): SessionRecord {
  return {
    id: String(r.id),
    userId: String(r.userId),
    scopes: String(r.scopes),
    jkt: (r.jkt as string | null) ?? null,
    userAgent: (r.userAgent as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    createdAt: sqliteDate(r.createdAt),
    lastUsedAt: sqliteDate(r.lastUsedAt),
    idleExpiresAt: sqliteDate(r.idleExpiresAt),
    absoluteExpiresAt: sqliteDate(r.absoluteExpiresAt),
    revokedAt: sqliteNullableDate(r.revokedAt),
    authTime: sqliteNullableDate(r.authTime),
    acr: String(r.acr),
    amr: String(r.amr),
  };
}
