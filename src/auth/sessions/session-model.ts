import { epochSeconds } from "../../clock.js";
import type { UserAuthentication } from "../viewer.js";

/** A session (refresh-token family) as the API shows it. */
export interface SessionModel {
  readonly id: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly jkt: string | null;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  /** The earlier of the idle and the absolute expiry. */
  readonly expiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly revokedAt: Date | null;
  /** When and how the session last proved its user; every access token of the family carries it. */
  readonly authentication: UserAuthentication;
  /** Set when the caller is known to hold this session (a login or refresh answer). */
  readonly current?: boolean;
}

interface SessionRow {
  id: string;
  userId: string;
  scopes: string;
  jkt: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  revokedAt: Date | null;
  authTime: Date | null;
  acr: string;
  amr: string;
}

export function toSessionModel(row: SessionRow): SessionModel {
  return {
    id: row.id,
    userId: row.userId,
    scopes: row.scopes.split(" ").filter(Boolean),
    jkt: row.jkt,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: new Date(Math.min(row.idleExpiresAt.getTime(), row.absoluteExpiresAt.getTime())),
    absoluteExpiresAt: row.absoluteExpiresAt,
    userAgent: row.userAgent,
    ip: row.ip,
    revokedAt: row.revokedAt,
    // Sessions from before these columns authenticated by password when they were created.
    authentication: {
      authTime: epochSeconds(row.authTime ?? row.createdAt),
      acr: row.acr,
      amr: row.amr.split(" ").filter(Boolean),
    },
  };
}
