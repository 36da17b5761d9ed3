import { calculateJwkThumbprint, decodeProtectedHeader } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyStore, type KeyStoreConfig } from "../../../src/auth/keys/key-store.js";
import { KeyStoreError, type KeyStoreErrorReason } from "../../../src/auth/keys/key-store-error.js";
import { issueAccessToken } from "../../../src/auth/tokens/issue-access-token.js";
import { AccessTokenVerifier } from "../../../src/auth/tokens/verify-access-token.js";
import type { Database } from "../../../src/db/database.js";
import { FakeClock } from "../../support/fake-clock.js";
import { insertLegacySigningKey, LEGACY_ROW } from "../../support/legacy-signing-key.js";
import { createTestDatabase } from "../../support/test-db.js";

const TTL = 300;
const TOLERANCE = 5;
const DELAY = 60;
const SECRET = "k".repeat(16) + "e".repeat(16) + "y";

let db: Database;
let clock: FakeClock;
beforeEach(async () => {
  db = await createTestDatabase();
  clock = new FakeClock("2030-01-01T00:00:00.000Z");
});
afterEach(async () => {
  await db.close();
});

const open = (config: Partial<KeyStoreConfig> = {}) =>
  KeyStore.open({
    prisma: db.prisma,
    clock,
    config: {
      alg: "EdDSA",
      encryptionSecret: null,
      accessTokenTtlSeconds: TTL,
      clockToleranceSeconds: TOLERANCE,
      publishDelaySeconds: DELAY,
      ...config,
    },
  });

async function expectKeyStoreError(promise: Promise<unknown>, reason: KeyStoreErrorReason) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyStoreError);
  expect((error as KeyStoreError).reason).toBe(reason);
}

const kids = (keys: KeyStore) => keys.jwks().keys.map((k) => k.kid);

describe("first start", () => {
  it("creates one Ed25519 key whose kid is its RFC 7638 thumbprint", async () => {
    const keys = await open();
    const { kid, alg } = keys.signingKey();
    expect(alg).toBe("EdDSA");
    const [jwk] = keys.jwks().keys;
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid, alg: "EdDSA", use: "sig" });
    expect(await calculateJwkThumbprint(jwk!, "sha256")).toBe(kid);
    expect(await db.prisma.signingKey.count()).toBe(1);
  });

  it("creates a P-256 key when ES256 is configured", async () => {
    const keys = await open({ alg: "ES256" });
    expect(keys.signingKey().alg).toBe("ES256");
    expect(keys.jwks().keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
  });

  it("reuses the stored key on the next start", async () => {
    const first = await open();
    const second = await open();
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
    expect(await db.prisma.signingKey.count()).toBe(1);
  });

  it("agrees on one signing key when two instances start at once on an empty database", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await Promise.all([a.reload(), b.reload()]);
    expect(a.signingKey().kid).toBe(b.signingKey().kid);
    expect(kids(a)).toEqual(kids(b));
  });

  it("signs with the oldest of two keys created by concurrent first starts, on every instance", async () => {
    const a = await open();
    // Another instance's first key, written a moment later (it found the table empty too).
    const other = await createTestDatabase();
    try {
      const elsewhere = await KeyStore.open({
        prisma: other.prisma,
        clock: new FakeClock(new Date(clock.now().getTime() + 1)),
        config: {
          alg: "EdDSA",
          encryptionSecret: null,
          accessTokenTtlSeconds: TTL,
          clockToleranceSeconds: TOLERANCE,
        },
      });
      const row = await other.prisma.signingKey.findUniqueOrThrow({
        where: { kid: elsewhere.signingKey().kid },
      });
      await db.prisma.signingKey.create({ data: row });
    } finally {
      await other.close();
    }
    const b = await open();
    await a.reload();
    expect(await db.prisma.signingKey.count()).toBe(2);
    expect(b.signingKey().kid).toBe(a.signingKey().kid);
    const oldest = await db.prisma.signingKey.findFirstOrThrow({ orderBy: { activatesAt: "asc" } });
    expect(a.signingKey().kid).toBe(oldest.kid);
  });

  it("switches to a new key when the configured alg changes, retiring the old one", async () => {
    const ed = await open({ alg: "EdDSA" });
    const edKid = ed.signingKey().kid;
    const es = await open({ alg: "ES256" });
    expect(es.signingKey().alg).toBe("ES256");
    const old = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: edKid } });
    expect(old.retiredAt).toEqual(clock.now());
    expect(old.expiresAt).toEqual(new Date(clock.now().getTime() + (TTL + TOLERANCE) * 1000));
  });
});

describe("JWKS", () => {
  it("publishes public members only", async () => {
    for (const alg of ["EdDSA", "ES256"] as const) {
      const keys = await open({ alg });
      for (const jwk of keys.jwks().keys) {
        const expected =
          jwk.kty === "EC"
            ? ["alg", "crv", "kid", "kty", "use", "x", "y"]
            : ["alg", "crv", "kid", "kty", "use", "x"];
        expect(Object.keys(jwk).sort()).toEqual(expected);
        expect(JSON.stringify(keys.jwks())).not.toMatch(/"d"/);
      }
    }
  });

  it("returns copies: editing the document does not change the keys", async () => {
    const keys = await open();
    const doc = keys.jwks();
    (doc.keys[0] as { x: string }).x = "tampered";
    expect(keys.jwks().keys[0]?.x).not.toBe("tampered");
  });
});

describe("rotation", () => {
  it("publishes a new key before it signs, and switches when the publish delay has passed", async () => {
    const keys = await open();
    const old = keys.signingKey().kid;
    const { kid, activatesAt } = await keys.rotate();
    expect(activatesAt).toEqual(new Date(clock.now().getTime() + DELAY * 1000));
    expect(kids(keys)).toEqual([old, kid]);
    expect(keys.signingKey().kid).toBe(old);
    clock.advance(DELAY * 1000 - 1);
    expect(keys.signingKey().kid).toBe(old);
    clock.advance(1);
    expect(keys.signingKey().kid).toBe(kid);
  });

  it("keeps a retired key published and verifying until its last token expired, then drops it", async () => {
    const keys = await open();
    const verifier = new AccessTokenVerifier({
      keys,
      clock,
      config: {
        issuer: "iss",
        audience: "aud",
        alg: "EdDSA",
        accessTokenTtlSeconds: TTL,
        clockToleranceSeconds: TOLERANCE,
        cacheSize: 0,
      },
    });
    const old = keys.signingKey().kid;
    const { activatesAt } = await keys.rotate();
    clock.set(new Date(activatesAt.getTime() - 1000));
    // The last token the old key signs, one second before the switch.
    const { token } = await issueAccessToken(
      { keys, clock, config: { issuer: "iss", audience: "aud", accessTokenTtlSeconds: TTL } },
      { userId: "u", sessionId: "s", scopes: [] },
    );
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: old } });
    expect(row.retiredAt).toEqual(activatesAt);
    expect(row.expiresAt).toEqual(new Date(activatesAt.getTime() + (TTL + TOLERANCE) * 1000));

    clock.set(new Date(row.expiresAt!.getTime() - 1));
    expect(kids(keys)).toContain(old);
    expect(keys.verificationKey(old, "EdDSA")).toBeDefined();
    clock.advance(1);
    expect(kids(keys)).not.toContain(old);
    expect(keys.verificationKey(old, "EdDSA")).toBeUndefined();
    // The token itself expired no later than its key: nothing valid was cut short.
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("signs with the new key at once with immediate: true", async () => {
    const keys = await open();
    const old = keys.signingKey().kid;
    const { kid } = await keys.rotate({ immediate: true });
    expect(keys.signingKey().kid).toBe(kid);
    expect(kids(keys)).toContain(old);
  });

  it("chains overlapping rotations so exactly one key signs at any instant", async () => {
    const keys = await open();
    const first = keys.signingKey().kid;
    const pending = await keys.rotate();
    clock.advanceSeconds(10);
    const latest = await keys.rotate();
    const signerAt = (at: Date) => {
      clock.set(at);
      return keys.signingKey().kid;
    };
    expect(signerAt(new Date(pending.activatesAt.getTime() - 1))).toBe(first);
    expect(signerAt(pending.activatesAt)).toBe(pending.kid);
    expect(signerAt(new Date(latest.activatesAt.getTime() - 1))).toBe(pending.kid);
    expect(signerAt(latest.activatesAt)).toBe(latest.kid);
    const rows = await db.prisma.signingKey.findMany();
    const retired = Object.fromEntries(rows.map((r) => [r.kid, r.retiredAt]));
    expect(retired).toEqual({
      [first]: pending.activatesAt,
      [pending.kid]: latest.activatesAt,
      [latest.kid]: null,
    });
  });

  it("retires every other key at once on an immediate rotation, pending ones included", async () => {
    const keys = await open();
    const pending = await keys.rotate();
    const emergency = await keys.rotate({ immediate: true });
    expect(keys.signingKey().kid).toBe(emergency.kid);
    clock.set(pending.activatesAt);
    expect(keys.signingKey().kid).toBe(emergency.kid);
  });

  it("deletes keys whose expiry has passed when rotating again", async () => {
    const keys = await open();
    const old = keys.signingKey().kid;
    await keys.rotate({ immediate: true });
    clock.advanceSeconds(TTL + TOLERANCE);
    await keys.rotate({ immediate: true });
    expect(await db.prisma.signingKey.findUnique({ where: { kid: old } })).toBeNull();
  });

  it("rotates when the interval has passed and not before", async () => {
    const keys = await open({ rotationIntervalDays: 30 });
    const first = keys.signingKey().kid;
    clock.advanceSeconds(30 * 86_400 - 1);
    expect(await keys.rotateIfDue()).toBeNull();
    clock.advanceSeconds(1);
    const rotated = await keys.rotateIfDue();
    expect(rotated?.kid).not.toBe(first);
    // The pending key counts as the newest: calling again does not rotate twice.
    expect(await keys.rotateIfDue()).toBeNull();
  });

  it("never rotates by interval when it is 0", async () => {
    const keys = await open({ rotationIntervalDays: 0 });
    clock.advanceSeconds(10 * 365 * 86_400);
    expect(await keys.rotateIfDue()).toBeNull();
  });
});

describe("several instances", () => {
  it("agree on the signing key and the JWKS after reload", async () => {
    const a = await open();
    const b = await open();
    expect(b.signingKey().kid).toBe(a.signingKey().kid);
    const { kid } = await a.rotate();
    expect(kids(b)).not.toContain(kid);
    await b.reload();
    expect(b.jwks()).toEqual(a.jwks());
    clock.advanceSeconds(DELAY);
    expect(a.signingKey().kid).toBe(kid);
    expect(b.signingKey().kid).toBe(kid);
  });

  it("verifies on one instance a token signed on another (after reload)", async () => {
    const a = await open();
    const b = await open();
    await a.rotate({ immediate: true });
    await b.reload();
    const config = { issuer: "iss", audience: "aud", accessTokenTtlSeconds: TTL };
    const { token } = await issueAccessToken(
      { keys: a, clock, config },
      { userId: "u", sessionId: "s", scopes: ["x"] },
    );
    const verifier = new AccessTokenVerifier({
      keys: b,
      clock,
      config: { ...config, alg: "EdDSA", clockToleranceSeconds: TOLERANCE, cacheSize: 0 },
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "u" });
  });
});

describe("encryption at rest", () => {
  it("stores the private key encrypted, with no plaintext d, when a secret is set", async () => {
    const keys = await open({ encryptionSecret: SECRET });
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: keys.signingKey().kid } });
    expect(row.encrypted).toBe(true);
    // A compact JWE (RFC 7516 §7.1): five base64url parts, key wrapped with A256KW, content A256GCM.
    expect(row.privateKey.split(".")).toHaveLength(5);
    expect(decodeProtectedHeader(row.privateKey)).toMatchObject({
      alg: "A256KW",
      enc: "A256GCM",
      cty: "jwk+json",
      signing_kid: keys.signingKey().kid,
    });
    expect(row.privateKey).not.toMatch(/"d"\s*:/);
    expect(row.publicJwk).not.toMatch(/"d"\s*:/);
  });

  it("loads an encrypted key again with the same secret", async () => {
    const first = await open({ encryptionSecret: SECRET });
    const second = await open({ encryptionSecret: SECRET });
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
  });

  it("stores the private key in plain JSON without a secret", async () => {
    const keys = await open();
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: keys.signingKey().kid } });
    expect(row.encrypted).toBe(false);
    expect(JSON.parse(row.privateKey)).toHaveProperty("d");
  });

  it("refuses to start with the wrong secret", async () => {
    await open({ encryptionSecret: SECRET });
    await expectKeyStoreError(open({ encryptionSecret: `${SECRET}-other` }), "encryption_secret_wrong");
  });

  it("refuses to start without a secret when a key is encrypted", async () => {
    await open({ encryptionSecret: SECRET });
    await expectKeyStoreError(open({ encryptionSecret: null }), "encryption_secret_missing");
    expect(await db.prisma.signingKey.count()).toBe(1);
  });

  it("refuses an encrypted private key moved onto another key's row (kid is authenticated)", async () => {
    const keys = await open({ encryptionSecret: SECRET });
    const { kid: second } = await keys.rotate();
    const first = keys.jwks().keys[0]!.kid;
    const source = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: first } });
    await db.prisma.signingKey.update({ where: { kid: second }, data: { privateKey: source.privateKey } });
    await expectKeyStoreError(open({ encryptionSecret: SECRET }), "key_corrupt");
  });

  it("refuses an altered ciphertext", async () => {
    const keys = await open({ encryptionSecret: SECRET });
    const { kid } = keys.signingKey();
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid } });
    const parts = row.privateKey.split(".");
    const ciphertext = Buffer.from(parts[3]!, "base64url");
    ciphertext[0]! ^= 1;
    parts[3] = ciphertext.toString("base64url");
    await db.prisma.signingKey.update({ where: { kid }, data: { privateKey: parts.join(".") } });
    await expectKeyStoreError(open({ encryptionSecret: SECRET }), "key_corrupt");
  });
});

describe("keys encrypted in the legacy format", () => {
  const insertLegacyRow = () => insertLegacySigningKey(db, clock.now());

  it("starts on an old-format database, signs with its key, and re-encrypts it as a JWE", async () => {
    await insertLegacyRow();
    const keys = await open({ encryptionSecret: LEGACY_ROW.secret });
    expect(keys.signingKey().kid).toBe(LEGACY_ROW.kid);
    expect(await db.prisma.signingKey.count()).toBe(1);
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: LEGACY_ROW.kid } });
    expect(row.privateKey).not.toBe(LEGACY_ROW.privateKey);
    expect(decodeProtectedHeader(row.privateKey)).toMatchObject({ alg: "A256KW", enc: "A256GCM" });

    // The rewritten row opens again, and the key still signs tokens the verifier accepts.
    const again = await open({ encryptionSecret: LEGACY_ROW.secret });
    expect(again.signingKey().kid).toBe(LEGACY_ROW.kid);
    const { token } = await issueAccessToken(
      {
        keys: again,
        clock,
        config: { issuer: "https://issuer.test", audience: "holdfast", accessTokenTtlSeconds: TTL },
      },
      { userId: "u", sessionId: "s", scopes: [], jkt: null },
    );
    expect(decodeProtectedHeader(token).kid).toBe(LEGACY_ROW.kid);
  });

  it("refuses an old-format key with the wrong secret, and leaves the row as it was", async () => {
    await insertLegacyRow();
    await expectKeyStoreError(open({ encryptionSecret: SECRET }), "encryption_secret_wrong");
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: LEGACY_ROW.kid } });
    expect(row.privateKey).toBe(LEGACY_ROW.privateKey);
  });
});

describe("integrity of stored keys", () => {
  it("refuses a row whose kid is not the thumbprint of its public key", async () => {
    const keys = await open();
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: keys.signingKey().kid } });
    await db.prisma.signingKey.delete({ where: { kid: row.kid } });
    await db.prisma.signingKey.create({ data: { ...row, kid: "attacker-chosen-kid" } });
    await expectKeyStoreError(open(), "key_corrupt");
  });

  it("refuses a row whose private key belongs to another public key", async () => {
    const a = await open();
    const { kid: b } = await a.rotate();
    const rowA = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: a.signingKey().kid } });
    const rowB = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: b } });
    const forged = {
      ...(JSON.parse(rowB.privateKey) as object),
      d: (JSON.parse(rowA.privateKey) as { d: string }).d,
    };
    await db.prisma.signingKey.update({ where: { kid: b }, data: { privateKey: JSON.stringify(forged) } });
    await expectKeyStoreError(open(), "key_corrupt");
  });

  it("keeps the keys it has when a reload meets a bad row", async () => {
    const keys = await open();
    const kid = keys.signingKey().kid;
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid } });
    await db.prisma.signingKey.create({ data: { ...row, kid: "corrupt" } });
    await expectKeyStoreError(keys.reload(), "key_corrupt");
    expect(keys.signingKey().kid).toBe(kid);
    expect(kids(keys)).toEqual([kid]);
  });

  it("does not hand out a key for the wrong alg", async () => {
    const keys = await open();
    const { kid } = keys.signingKey();
    expect(keys.verificationKey(kid, "EdDSA")).toBeDefined();
    expect(keys.verificationKey(kid, "ES256")).toBeUndefined();
    expect(keys.verificationKey("__proto__", "EdDSA")).toBeUndefined();
  });
});
