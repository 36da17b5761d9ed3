// The rotation store against the database of TEST_DATABASE, without the server: the compare-and-set
// and the all-or-nothing write, and (the hazard of SQLite's single shared connection) that a
// rotation never runs inside a Prisma transaction that another request holds open.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRow } from "../../src/auth/audit-log.js";
import {
  createRefreshTokenStore,
  type RefreshTokenStore,
} from "../../src/auth/sessions/refresh-token-store.js";
import type { Database } from "../../src/db/database.js";
import { newId } from "../../src/ids.js";
import { createTestDatabase } from "../support/test-db.js";

let db: Database & { url: string };
let store: RefreshTokenStore;
const now = new Date("2030-03-01T10:00:00.000Z");
let counter = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  store = createRefreshTokenStore(db.driver);
});
afterAll(async () => {
  await db?.close();
});

/** A user with one session holding one unconsumed token; returns their ids and the token's hash. */
async function family() {
  counter += 1;
  const userId = newId(now);
  const sessionId = newId(now);
  const tokenId = newId(now);
  const tokenHash = `${counter}`.padStart(64, "a");
  await db.prisma.user.create({
    data: {
      id: userId,
      email: `store${counter}@example.com`,
      passwordHash: "x",
      displayName: "S",
      createdAt: now,
    },
  });
  await db.prisma.session.create({
    data: {
      id: sessionId,
      userId,
      scopes: "profile:read",
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: new Date(now.getTime() + 3_600_000),
      absoluteExpiresAt: new Date(now.getTime() + 86_400_000),
    },
  });
  await db.prisma.refreshToken.create({ data: { id: tokenId, sessionId, tokenHash, createdAt: now } });
  return { userId, sessionId, tokenId, tokenHash };
}

function audit(type: AuditRow["type"], sessionId: string, userId: string): AuditRow {
  return { id: newId(now), type, userId, sessionId, ip: null, userAgent: null, detail: null, createdAt: now };
}

function consumeInput(f: Awaited<ReturnType<typeof family>>, n: number) {
  const at = new Date(now.getTime() + 1000);
  return {
    tokenId: f.tokenId,
    sessionId: f.sessionId,
    now: at,
    sealedSuccessor: `sealed-${n}`,
    successor: { id: newId(at), tokenHash: `${counter}-${n}`.padStart(64, "b") },
    idleExpiresAt: new Date(at.getTime() + 3_600_000),
    ip: "192.0.2.7",
    audit: audit("refresh_token.rotated", f.sessionId, f.userId),
  };
}

describe(`rotation store (${process.env.TEST_DATABASE ?? "sqlite"})`, () => {
  it("finds the token with its session and user, and writes what Prisma then reads back exactly", async () => {
    const f = await family();
    const found = await store.find(f.tokenHash);
    expect(found?.token).toEqual({
      id: f.tokenId,
      sessionId: f.sessionId,
      consumedAt: null,
      sealedSuccessor: null,
    });
    expect(found?.session.absoluteExpiresAt).toEqual(new Date(now.getTime() + 86_400_000));
    expect(found?.user).toMatchObject({ id: f.userId, email: `store${counter}@example.com`, role: "user" });

    const input = consumeInput(f, 1);
    expect(await store.consume(input)).toBe(true);
    const tokens = await db.prisma.refreshToken.findMany({
      where: { sessionId: f.sessionId },
      orderBy: { id: "asc" },
    });
    expect(tokens).toEqual([
      expect.objectContaining({ id: f.tokenId, consumedAt: input.now, sealedSuccessor: "sealed-1" }),
      expect.objectContaining({
        id: input.successor.id,
        parentId: f.tokenId,
        createdAt: input.now,
        consumedAt: null,
      }),
    ]);
    const session = await db.prisma.session.findUniqueOrThrow({ where: { id: f.sessionId } });
    expect(session).toMatchObject({
      lastUsedAt: input.now,
      idleExpiresAt: input.idleExpiresAt,
      ip: "192.0.2.7",
    });
    expect(await db.prisma.auditEvent.findUnique({ where: { id: input.audit.id } })).toMatchObject({
      type: "refresh_token.rotated",
      createdAt: now,
    });
  });

  it("consumes a token once: of 10 concurrent consumes exactly one wins, and a loser writes nothing", async () => {
    const f = await family();
    const inputs = Array.from({ length: 10 }, (_, n) => consumeInput(f, n));
    const won = await Promise.all(inputs.map((input) => store.consume(input)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await db.prisma.refreshToken.count({ where: { sessionId: f.sessionId } })).toBe(2);
    expect(
      await db.prisma.auditEvent.count({ where: { sessionId: f.sessionId, type: "refresh_token.rotated" } }),
    ).toBe(1);
  });

  it("never runs inside a Prisma transaction another request holds open: a rollback there leaves the rotation", async () => {
    const f = await family();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const doomed = audit("session.revoked", f.sessionId, f.userId);
    const transaction = db.prisma
      .$transaction(async (tx) => {
        await tx.auditEvent.create({ data: doomed });
        entered();
        await held;
        throw new Error("rolled back on purpose");
      })
      .catch((error: unknown) => error);
    await inside;
    const input = consumeInput(f, 1);
    const consuming = store.consume(input);
    // Every chance to run while the transaction is open, before it rolls back.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await transaction).toBeInstanceOf(Error);
    expect(await consuming).toBe(true);
    expect(await db.prisma.auditEvent.findUnique({ where: { id: doomed.id } })).toBeNull();
    expect(await db.prisma.refreshToken.findUnique({ where: { id: input.successor.id } })).not.toBeNull();
    expect(await db.prisma.auditEvent.findUnique({ where: { id: input.audit.id } })).not.toBeNull();
  });

  it("ends a family with its audit row, and leaves an ended family's first end in place", async () => {
    const f = await family();
    const first = new Date(now.getTime() + 5000);
    await store.revokeFamily({
      sessionId: f.sessionId,
      now: first,
      reason: "refresh_token_reused",
      audit: audit("refresh_token.reuse_detected", f.sessionId, f.userId),
    });
    await store.revokeFamily({
      sessionId: f.sessionId,
      now: new Date(first.getTime() + 5000),
      reason: "logout",
      audit: audit("refresh_token.reuse_detected", f.sessionId, f.userId),
    });
    const session = await db.prisma.session.findUniqueOrThrow({ where: { id: f.sessionId } });
    expect(session).toMatchObject({ revokedAt: first, revokedReason: "refresh_token_reused" });
    expect(
      await db.prisma.auditEvent.count({
        where: { sessionId: f.sessionId, type: "refresh_token.reuse_detected" },
      }),
    ).toBe(2);
  });
});
