// The hot reads that skip Prisma (prepared statements on its driver) answer exactly what Prisma's
// model API answers, on the provider of TEST_DATABASE, and each is one round trip.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRefreshTokenStore } from "../../src/auth/sessions/create-refresh-token-store.js";
import type { Database } from "../../src/db/database.js";
import { newId } from "../../src/ids.js";
import { createUserReads } from "../../src/users/user-reads.js";
import { countDriverCalls } from "../support/driver-counters.js";
import { createTestDatabase } from "../support/test-db.js";

let db: Database & { url: string };
const PUBLIC = { id: true, email: true, displayName: true, role: true, createdAt: true } as const;

beforeAll(async () => {
  db = await createTestDatabase();
  const base = Date.parse("2030-01-01T00:00:00.000Z");
  await db.prisma.user.createMany({
    data: Array.from({ length: 30 }, (_, i) => {
      const createdAt = new Date(base + i * 1234);
      return {
        id: newId(createdAt),
        email: `reader${i}@example.com`,
        passwordHash: "x",
        displayName: `Reader ${i}`,
        role: i === 3 ? "admin" : "user",
        createdAt,
      };
    }),
  });
});
afterAll(async () => {
  await db?.close();
});

describe(`hot reads on prepared statements (${process.env.TEST_DATABASE ?? "sqlite"})`, () => {
  it("reads users by id like Prisma: one, several, and unknown ids, with exact timestamps", async () => {
    const reads = createUserReads(db.driver);
    const all = await db.prisma.user.findMany({ select: PUBLIC, orderBy: { id: "asc" } });
    const byId = (rows: { id: string }[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    expect(await reads.byIds([all[3]!.id])).toEqual([all[3]]);
    const some = [all[1]!.id, all[7]!.id, "00000000-0000-7000-8000-000000000000", all[20]!.id];
    expect(byId(await reads.byIds(some))).toEqual(byId([all[1]!, all[7]!, all[20]!]));
    expect(await reads.byIds(["nobody"])).toEqual([]);
  });

  it("reads a login's credentials by email like Prisma, password hash included", async () => {
    const reads = createUserReads(db.driver);
    const expected = await db.prisma.user.findUnique({
      where: { email: "reader3@example.com" },
      select: { ...PUBLIC, passwordHash: true },
    });
    expect(expected?.role).toBe("admin");
    expect(await reads.credentials("reader3@example.com")).toEqual(expected);
    expect(await reads.credentials("nobody@example.com")).toBeNull();
  });

  it("pages users in id order like Prisma, from the start and after a cursor", async () => {
    const reads = createUserReads(db.driver);
    const prismaPage = (take: number, after?: string) =>
      db.prisma.user.findMany({
        select: PUBLIC,
        orderBy: { id: "asc" },
        take,
        ...(after ? { where: { id: { gt: after } } } : {}),
      });
    const first = await reads.page(11, null);
    expect(first).toEqual(await prismaPage(11));
    expect(await reads.page(11, first[9]!.id)).toEqual(await prismaPage(11, first[9]!.id));
    expect(await reads.page(5, first.at(-1)!.id.replace(/.$/, "z"))).toEqual(
      await prismaPage(5, first.at(-1)!.id.replace(/.$/, "z")),
    );
  });

  it("lists a user's live sessions like Prisma: revoked and expired left out, most recently used first", async () => {
    const [user] = await db.prisma.user.findMany({ orderBy: { id: "asc" }, take: 1 });
    const now = new Date("2030-02-01T12:00:00.000Z");
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    const session = (n: number, extra: Record<string, unknown>) => ({
      id: newId(at(n)),
      userId: user!.id,
      scopes: "profile:read notes:read",
      jkt: n % 2 === 0 ? null : "jkt-thumbprint",
      userAgent: n % 3 === 0 ? null : `agent ${n}`,
      ip: "192.0.2.1",
      createdAt: at(-3600),
      lastUsedAt: at(-n * 10),
      idleExpiresAt: at(3600),
      absoluteExpiresAt: at(86_400),
      ...extra,
    });
    await db.prisma.session.createMany({
      data: [
        session(1, {}),
        // The step-up columns read back exactly too (a date, and text).
        session(2, { authTime: at(-100), acr: "phr", amr: "hwk user" }),
        session(3, { revokedAt: at(-5), revokedReason: "logout" }),
        session(4, { idleExpiresAt: now }),
        session(5, { absoluteExpiresAt: at(-1) }),
        session(6, { idleExpiresAt: at(0.001) }),
        session(7, {}),
      ],
    });
    const expected = await db.prisma.session.findMany({
      where: {
        userId: user!.id,
        revokedAt: null,
        idleExpiresAt: { gt: now },
        absoluteExpiresAt: { gt: now },
      },
      orderBy: { lastUsedAt: "desc" },
      select: {
        id: true,
        userId: true,
        scopes: true,
        jkt: true,
        userAgent: true,
        ip: true,
        createdAt: true,
        lastUsedAt: true,
        idleExpiresAt: true,
        absoluteExpiresAt: true,
        revokedAt: true,
        authTime: true,
        acr: true,
        amr: true,
      },
    });
    expect(expected).toHaveLength(4);
    expect(await createRefreshTokenStore(db.driver).liveSessions(user!.id, now)).toEqual(expected);
  });

  it("starts a family in one round trip, all or nothing, with rows Prisma reads back exactly", async () => {
    const store = createRefreshTokenStore(db.driver);
    const [user] = await db.prisma.user.findMany({ orderBy: { id: "asc" }, skip: 5, take: 1 });
    const now = new Date("2030-03-01T08:30:00.123Z");
    const session = {
      id: newId(now),
      userId: user!.id,
      scopes: "profile:read notes:write",
      jkt: "thumbprint-of-the-key",
      userAgent: "agent 1",
      ip: "192.0.2.7",
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: new Date(now.getTime() + 3_600_000),
      absoluteExpiresAt: new Date(now.getTime() + 86_400_000),
      revokedAt: null,
      authTime: new Date(now.getTime() - 2000),
      acr: "phr",
      amr: "hwk user",
    };
    const token = { id: newId(now), tokenHash: "a".repeat(64) };
    const audit = {
      id: newId(now),
      type: "login.succeeded" as const,
      userId: user!.id,
      sessionId: session.id,
      ip: "192.0.2.7",
      userAgent: "agent 1",
      detail: null,
      createdAt: now,
    };
    const counter = countDriverCalls();
    try {
      await store.start({ session, token, audit });
      expect(counter.read().sqlRoundTrips).toBe(1);
    } finally {
      counter.restore();
    }
    const { tokens, ...stored } = (await db.prisma.session.findUniqueOrThrow({
      where: { id: session.id },
      include: { tokens: true },
    })) as typeof session & { revokedReason: null; tokens: unknown[] };
    expect(stored).toEqual({ ...session, revokedReason: null });
    expect(tokens).toEqual([
      {
        ...token,
        sessionId: session.id,
        parentId: null,
        createdAt: now,
        consumedAt: null,
        sealedSuccessor: null,
      },
    ]);
    expect(await db.prisma.auditEvent.findUnique({ where: { id: audit.id } })).toEqual(audit);

    // A second family reusing the session id fails whole: neither its token nor its audit row stays.
    const again = { id: newId(now), tokenHash: "b".repeat(64) };
    await expect(
      store.start({ session, token: again, audit: { ...audit, id: newId(now) } }),
    ).rejects.toThrow();
    expect(await db.prisma.refreshToken.count({ where: { tokenHash: again.tokenHash } })).toBe(0);
    expect(await db.prisma.auditEvent.count({ where: { sessionId: session.id } })).toBe(1);
  });

  it("makes one round trip per read", async () => {
    const reads = createUserReads(db.driver);
    const store = createRefreshTokenStore(db.driver);
    const [user] = await reads.page(1, null);
    const counter = countDriverCalls();
    try {
      await reads.byIds([user!.id]);
      await reads.page(100, null);
      await store.find("0".repeat(64));
      await reads.credentials("reader1@example.com");
      expect(counter.read().sqlRoundTrips).toBe(4);
    } finally {
      counter.restore();
    }
  });
});
