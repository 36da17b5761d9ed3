import { randomBytes } from "node:crypto";
import type { Clock } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import { withDatabase } from "../../db/errors.js";

/** How long a challenge may be answered (WebAuthn §13.4.3: short, and used once). */
export const CHALLENGE_TTL_SECONDS = 120;

export type ChallengePurpose = "registration" | "authentication";

export interface ConsumedChallenge {
  readonly challenge: string;
  readonly userId: string | null;
  readonly userHandle: string | null;
}

/**
 * WebAuthn challenges in the database, so any instance can verify what another one issued. Each
 * is consumed by one atomic delete: of two requests presenting it, exactly one gets it, and an
 * expired or unknown one is simply absent.
 */
export class WebAuthnChallenges {
  constructor(
    private readonly prisma: Prisma,
    private readonly clock: Clock,
  ) {}

  async create(purpose: ChallengePurpose, owner?: { userId: string; userHandle: string }): Promise<string> {
    const now = this.clock.now();
    const challenge = randomBytes(32).toString("base64url");
    await withDatabase(() =>
      this.prisma.$transaction([
        // Expired challenges are useless; the index on expiresAt keeps this sweep cheap.
        this.prisma.webAuthnChallenge.deleteMany({ where: { expiresAt: { lt: now } } }),
        this.prisma.webAuthnChallenge.create({
          data: {
            id: challenge,
            purpose,
            userId: owner?.userId ?? null,
            userHandle: owner?.userHandle ?? null,
            createdAt: now,
            expiresAt: new Date(now.getTime() + CHALLENGE_TTL_SECONDS * 1000),
          },
        }),
      ]),
    );
    return challenge;
  }

  /** The challenge, once: null when unknown, already used, expired, or issued for another purpose. */
  async consume(challenge: string, purpose: ChallengePurpose): Promise<ConsumedChallenge | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return null;
    const row = await withDatabase(() =>
      this.prisma.webAuthnChallenge.findUnique({ where: { id: challenge } }),
    );
    if (!row) return null;
    const taken = await withDatabase(() =>
      this.prisma.webAuthnChallenge.deleteMany({ where: { id: challenge } }),
    );
    if (taken.count !== 1) return null;
    if (row.purpose !== purpose || row.expiresAt <= this.clock.now()) return null;
    return { challenge, userId: row.userId, userHandle: row.userHandle };
  }
}
