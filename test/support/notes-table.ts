import type { Database } from "../../src/db/database.js";

// Direct reads of the notes module's own table (`notes`, outside Holdfast's Prisma model), for
// tests that check what a refused write left behind.

/** How many notes there are, of one owner or in all. */
export async function countNotes(database: Database, ownerId?: string): Promise<number> {
  const rows =
    ownerId === undefined
      ? await database.prisma.$queryRawUnsafe<{ n: number | bigint }[]>("SELECT count(*) AS n FROM notes")
      : await database.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(
          `SELECT count(*) AS n FROM notes WHERE owner_id = ${database.provider === "sqlite" ? "?" : "$1"}`,
          ownerId,
        );
  return Number(rows[0]?.n ?? 0);
}
