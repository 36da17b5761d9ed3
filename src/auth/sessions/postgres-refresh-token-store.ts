import type pg from "pg";
import type { Clock } from "../../clock.js";
import { isDriverUniqueViolation, pgTimestamp, pgTypes } from "../../db/driver-sql.js";
import type { AuditRow } from "../audit-log.js";
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

// Named statements: pg prepares each once per connection, so PostgreSQL plans them once.
const FIND = {
  name: "holdfast_refresh_find",
  text: `SELECT t.id AS "tokenId", t."consumedAt", t."sealedSuccessor",
  s.id, s."userId", s.scopes, s.jkt, s."userAgent", s.ip, s."createdAt", s."lastUsedAt",
  s."idleExpiresAt", s."absoluteExpiresAt", s."revokedAt", s."authTime", s.acr, s.amr,
  u.email AS "userEmail", u."displayName" AS "userDisplayName", u.role AS "userRole",
  u."createdAt" AS "userCreatedAt", COALESCE($2::timestamp, now() AT TIME ZONE 'UTC') AS "databaseNow"
FROM holdfast."RefreshToken" t
JOIN holdfast."Session" s ON s.id = t."sessionId"
JOIN holdfast."User" u ON u.id = s."userId"
WHERE t."tokenHash" = $1`,
};

const FIND_TOKEN = {
  name: "holdfast_refresh_find_token",
  text: `SELECT id, "sessionId", "consumedAt", "sealedSuccessor" FROM holdfast."RefreshToken" WHERE "tokenHash" = $1`,
};

// One statement, so one round trip and one implicit transaction. The UPDATE is the compare-and-set:
// a concurrent rotation of the same token waits for this row's lock, re-checks `consumedAt IS NULL`
// after this commits (READ COMMITTED re-evaluation), matches nothing, and so inserts nothing, since
// every other part reads from `consumed`.
const CONSUME = {
  name: "holdfast_refresh_consume",
  text: `WITH consumed AS (
  UPDATE holdfast."RefreshToken" SET "consumedAt" = $2::timestamp, "sealedSuccessor" = $3
  WHERE id = $1 AND "consumedAt" IS NULL
  RETURNING id, "sessionId"
), successor AS (
  INSERT INTO holdfast."RefreshToken" (id, "sessionId", "tokenHash", "parentId", "createdAt")
  SELECT $4, "sessionId", $5, id, $2::timestamp FROM consumed
), touched AS (
  UPDATE holdfast."Session" SET "lastUsedAt" = $2::timestamp, "idleExpiresAt" = $6::timestamp, ip = $7
  WHERE id = (SELECT "sessionId" FROM consumed) AND "revokedAt" IS NULL
), audit AS (
  INSERT INTO holdfast."AuditEvent" (id, type, "userId", "sessionId", ip, "userAgent", detail, "createdAt")
  SELECT $8, $9, $10, "sessionId", $11, $12, $13, $14::timestamp FROM consumed
)
SELECT count(*)::int AS consumed FROM consumed`,
};

// A login: the session, its first token and the audit row in one statement (the token's foreign
// key is checked at the end of the statement, when the session row exists).
const START = {
  name: "holdfast_session_start",
  text: `WITH session AS (
  INSERT INTO holdfast."Session" (id, "userId", scopes, jkt, "userAgent", ip, "createdAt", "lastUsedAt", "idleExpiresAt",
    "absoluteExpiresAt", "authTime", acr, amr)
  VALUES ($1, $2, $3, $4, $5, $6, $7::timestamp, $8::timestamp, $9::timestamp, $10::timestamp, $11::timestamp, $12, $13)
), token AS (
  INSERT INTO holdfast."RefreshToken" (id, "sessionId", "tokenHash", "createdAt") VALUES ($14, $1, $15, $7::timestamp)
)
INSERT INTO holdfast."AuditEvent" (id, type, "userId", "sessionId", ip, "userAgent", detail, "createdAt")
VALUES ($16, $17, $18, $19, $20, $21, $22, $23::timestamp)`,
};

const REVOKE_FAMILY = {
  name: "holdfast_refresh_revoke_family",
  text: `WITH revoked AS (
  UPDATE holdfast."Session" SET "revokedAt" = $2::timestamp, "revokedReason" = $3
  WHERE id = $1 AND "revokedAt" IS NULL
)
INSERT INTO holdfast."AuditEvent" (id, type, "userId", "sessionId", ip, "userAgent", detail, "createdAt")
VALUES ($4, $5, $6, $7, $8, $9, $10, $11::timestamp)`,
};

const LIVE_SESSIONS = {
  name: "holdfast_sessions_live",
  text: `SELECT id, "userId", scopes, jkt, "userAgent", ip, "createdAt", "lastUsedAt", "idleExpiresAt",
  "absoluteExpiresAt", "revokedAt", "authTime", acr, amr
FROM holdfast."Session"
WHERE "userId" = $1 AND "revokedAt" IS NULL AND "idleExpiresAt" > $2::timestamp AND "absoluteExpiresAt" > $2::timestamp
ORDER BY "lastUsedAt" DESC`,
};

/** An audit row's columns in the order every INSERT INTO holdfast."AuditEvent" below lists them. */
function auditValues(audit: AuditRow): unknown[] {
  return [
    audit.id,
    audit.type,
    audit.userId,
    audit.sessionId,
    audit.ip,
    audit.userAgent,
    audit.detail,
    pgTimestamp(audit.createdAt),
  ];
}

interface FoundRow {
  databaseNow: Date;
  tokenId: string;
  consumedAt: Date | null;
  sealedSuccessor: string | null;
  id: string;
  userId: string;
  scopes: string;
  jkt: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  revokedAt: Date | null;
  authTime: Date | null;
  acr: string;
  amr: string;
  userEmail: string;
  userDisplayName: string;
  userRole: string;
  userCreatedAt: Date;
}

export class PostgresRefreshTokenStore implements RefreshTokenStore {
  /** `databaseClock` stands for PostgreSQL's `now()` in tests; null reads the database's own. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseClock: Clock | null = null,
  ) {}

  async start({ session: s, token, audit }: StartFamilyInput): Promise<void> {
    await this.pool.query({
      ...START,
      values: [...sessionInsertValues(s, pgTimestamp), token.id, token.tokenHash, ...auditValues(audit)],
    });
  }

  async find(tokenHash: string): Promise<FoundRefreshToken | null> {
    const now = this.databaseClock ? pgTimestamp(this.databaseClock.now()) : null;
    const { rows } = await this.pool.query<FoundRow>({ ...FIND, values: [tokenHash, now], types: pgTypes });
    const r = rows[0];
    if (!r) return null;
    return {
      now: r.databaseNow,
      token: { id: r.tokenId, sessionId: r.id, consumedAt: r.consumedAt, sealedSuccessor: r.sealedSuccessor },
      session: {
        id: r.id,
        userId: r.userId,
        scopes: r.scopes,
        jkt: r.jkt,
        userAgent: r.userAgent,
        ip: r.ip,
        createdAt: r.createdAt,
        lastUsedAt: r.lastUsedAt,
        idleExpiresAt: r.idleExpiresAt,
        absoluteExpiresAt: r.absoluteExpiresAt,
        revokedAt: r.revokedAt,
        authTime: r.authTime,
        acr: r.acr,
        amr: r.amr,
      },
      user: {
        id: r.userId,
        email: r.userEmail,
        displayName: r.userDisplayName,
        role: r.userRole,
        createdAt: r.userCreatedAt,
      },
    };
  }

  async findToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const { rows } = await this.pool.query<RefreshTokenRecord>({
      ...FIND_TOKEN,
      values: [tokenHash],
      types: pgTypes,
    });
    return rows[0] ?? null;
  }

  async consume(input: ConsumeInput): Promise<boolean> {
    const { audit } = input;
    const now = pgTimestamp(input.now);
    try {
      const { rows } = await this.pool.query<{ consumed: number }>({
        ...CONSUME,
        values: [
          input.tokenId,
          now,
          input.sealedSuccessor,
          input.successor.id,
          input.successor.tokenHash,
          pgTimestamp(input.idleExpiresAt),
          input.ip,
          audit.id,
          audit.type,
          audit.userId,
          audit.ip,
          audit.userAgent,
          audit.detail,
          pgTimestamp(audit.createdAt),
        ],
      });
      return rows[0]?.consumed === 1;
    } catch (error) {
      // The successor's unique parentId refused a second branch: another rotation won.
      if (isDriverUniqueViolation(error)) return false;
      throw error;
    }
  }

  async liveSessions(userId: string, now: Date): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRecord>({
      ...LIVE_SESSIONS,
      values: [userId, pgTimestamp(now)],
      types: pgTypes,
    });
    return rows;
  }

  async revokeFamily(input: RevokeFamilyInput): Promise<void> {
    const { audit } = input;
    await this.pool.query({
      ...REVOKE_FAMILY,
      values: [input.sessionId, pgTimestamp(input.now), input.reason, ...auditValues(audit)],
    });
  }
}
