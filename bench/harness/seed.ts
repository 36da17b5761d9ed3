import type { Prisma } from "../../src/db/database.js";
import { newId } from "../../src/ids.js";

// Seeded rows are written straight through Prisma: fast, and none of them is ever logged in with
// (their password hash is not a valid hash). Users who log in are registered through GraphQL.
const NO_LOGIN = "!seeded-without-password";
const BATCH = 1000;

/** `count` users. (Notes live in the notes module's own table, outside Holdfast's Prisma model.) */
export async function seedUsers(prisma: Prisma, count: number): Promise<string[]> {
  const now = Date.now();
  const users = Array.from({ length: count }, (_, i) => {
    const createdAt = new Date(now - (count - i) * 1000);
    return {
      id: newId(createdAt),
      email: `seeded${i}@bench.example`,
      passwordHash: NO_LOGIN,
      displayName: `Seeded user ${i}`,
      createdAt,
    };
  });
  for (let i = 0; i < users.length; i += BATCH)
    await prisma.user.createMany({ data: users.slice(i, i + BATCH) });
  return users.map((u) => u.id);
}

/**
 * `count` sessions revoked just now, so a server started within the access-token lifetime loads
 * them all into its RevocationSet (SessionService.loadRecentRevocations).
 */
export async function seedRevokedSessions(prisma: Prisma, count: number): Promise<void> {
  const [userId] = await seedUsers(prisma, 1);
  const now = new Date();
  const expires = new Date(now.getTime() + 86_400_000);
  for (let i = 0; i < count; i += BATCH) {
    const data = Array.from({ length: Math.min(BATCH, count - i) }, () => ({
      id: newId(now),
      userId: userId!,
      scopes: "",
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: expires,
      absoluteExpiresAt: expires,
      revokedAt: now,
      revokedReason: "logout",
    }));
    await prisma.session.createMany({ data });
  }
}
