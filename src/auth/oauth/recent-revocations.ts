import { type Clock, epochSeconds } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import { withDatabase } from "../../db/errors.js";

export interface RecentRevocation {
  readonly sid: string;
  /** After this (epoch seconds) every access token of the session has expired by itself. */
  readonly tokens_expire_by: number;
}

/**
 * Sessions revoked recently enough that one of their access tokens could still be alive: what a
 * resource server without the Redis feed polls (the same window `loadRecentRevocations` uses).
 */
export async function recentRevocations(
  prisma: Prisma,
  clock: Clock,
  tokenLifetimeSeconds: number,
): Promise<RecentRevocation[]> {
  const now = clock.now().getTime();
  const rows = await withDatabase(() =>
    prisma.session.findMany({
      where: { revokedAt: { gte: new Date(now - tokenLifetimeSeconds * 1000) } },
      select: { id: true, revokedAt: true },
      orderBy: { revokedAt: "asc" },
    }),
  );
  return rows.map((row) => ({
    sid: row.id,
    tokens_expire_by: epochSeconds(new Date(row.revokedAt!.getTime() + tokenLifetimeSeconds * 1000)),
  }));
}
