import type { Prisma } from "../../db/database.js";
import { withDatabase } from "../../db/errors.js";
import { hashRefreshToken, isWellFormedRefreshToken } from "../sessions/refresh-token.js";

export interface RefreshTokenRecord {
  readonly sessionId: string;
  readonly userId: string;
  readonly scopes: string;
  readonly jkt: string | null;
  readonly issuedAt: Date;
  /** Rotated already: the token itself no longer refreshes (its successor does). */
  readonly consumed: boolean;
  readonly revoked: boolean;
  /** When the session ends by itself: the earlier of its idle and absolute expiry. */
  readonly expiresAt: Date;
}

/** A refresh token's record by its hash, or null. Malformed tokens never reach the database. */
export async function findRefreshToken(prisma: Prisma, token: string): Promise<RefreshTokenRecord | null> {
  if (!isWellFormedRefreshToken(token)) return null;
  const row = await withDatabase(() =>
    prisma.refreshToken.findUnique({
      where: { tokenHash: hashRefreshToken(token) },
      include: { session: true },
    }),
  );
  if (!row) return null;
  const { session } = row;
  return {
    sessionId: session.id,
    userId: session.userId,
    scopes: session.scopes,
    jkt: session.jkt,
    issuedAt: row.createdAt,
    consumed: row.consumedAt !== null,
    revoked: session.revokedAt !== null,
    expiresAt: new Date(Math.min(session.idleExpiresAt.getTime(), session.absoluteExpiresAt.getTime())),
  };
}

/** Whether the session was revoked, from the database (the record every instance shares). */
export async function isSessionRevoked(prisma: Prisma, sessionId: string): Promise<boolean> {
  const row = await withDatabase(() =>
    prisma.session.findUnique({ where: { id: sessionId }, select: { revokedAt: true } }),
  );
  return row === null || row.revokedAt !== null;
}
