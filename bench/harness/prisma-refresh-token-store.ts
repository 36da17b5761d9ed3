import type {
  ConsumeInput,
  FoundRefreshToken,
  RefreshTokenRecord,
  RefreshTokenStore,
  RevokeFamilyInput,
  StartFamilyInput,
} from "../../src/auth/sessions/refresh-token-store.js";
import type { Prisma } from "../../src/db/database.js";
import { isUniqueViolation } from "../../src/db/errors.js";

/**
 * The rotation's data access as it was before the store, through Prisma's model API, kept for the
 * side-by-side bench: `findUnique` with `include: { session }` (two queries), the user read
 * separately (as `AuthService.refresh` did), and a batch `$transaction` of four writes; a login's
 * three writes as the same kind of batch.
 */
export class PrismaRefreshTokenStore implements RefreshTokenStore {
  constructor(private readonly prisma: Prisma) {}

  async find(tokenHash: string): Promise<FoundRefreshToken | null> {
    const row = await this.prisma.refreshToken.findUnique({
      where: { tokenHash },
      include: { session: true },
    });
    if (!row) return null;
    const user = await this.prisma.user.findUniqueOrThrow({
      where: { id: row.session.userId },
      select: { id: true, email: true, displayName: true, role: true, createdAt: true },
    });
    // The bench has one clock: the process's stands for the database's.
    return { now: new Date(), token: row, session: row.session, user };
  }

  async start({ session, token, audit }: StartFamilyInput): Promise<void> {
    const { prisma } = this;
    await prisma.$transaction([
      prisma.session.create({ data: session }),
      prisma.refreshToken.create({ data: { ...token, sessionId: session.id, createdAt: session.createdAt } }),
      prisma.auditEvent.create({ data: audit }),
    ]);
  }

  findToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    return this.prisma.refreshToken.findUnique({ where: { tokenHash } });
  }

  async consume(input: ConsumeInput): Promise<boolean> {
    const { prisma } = this;
    try {
      const [consumed] = await prisma.$transaction([
        prisma.refreshToken.updateMany({
          where: { id: input.tokenId, consumedAt: null },
          data: { consumedAt: input.now, sealedSuccessor: input.sealedSuccessor },
        }),
        prisma.refreshToken.create({
          data: {
            id: input.successor.id,
            sessionId: input.sessionId,
            tokenHash: input.successor.tokenHash,
            parentId: input.tokenId,
            createdAt: input.now,
          },
        }),
        prisma.session.updateMany({
          where: { id: input.sessionId, revokedAt: null },
          data: { lastUsedAt: input.now, idleExpiresAt: input.idleExpiresAt, ip: input.ip },
        }),
        prisma.auditEvent.create({ data: input.audit }),
      ]);
      return consumed.count === 1;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  liveSessions(userId: string, now: Date) {
    return this.prisma.session.findMany({
      where: { userId, revokedAt: null, idleExpiresAt: { gt: now }, absoluteExpiresAt: { gt: now } },
      orderBy: { lastUsedAt: "desc" },
    });
  }

  async revokeFamily(input: RevokeFamilyInput): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.session.updateMany({
        where: { id: input.sessionId, revokedAt: null },
        data: { revokedAt: input.now, revokedReason: input.reason },
      }),
      this.prisma.auditEvent.create({ data: input.audit }),
    ]);
  }
}
