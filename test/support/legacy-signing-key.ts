import type { Database } from "../../src/db/database.js";

/**
 * A row as the previous release wrote it (AES-256-GCM in a JSON envelope, before JWE), made with
 * that code for this test: a throwaway Ed25519 key and secret, never used anywhere else.
 */
export const LEGACY_ROW = {
  secret: "legacy-format-secret-0123456789abcdef",
  kid: "97fjmW3_GHsDeX6KyIMkzgjNf_wOh3WUXkYZ5Nrb3Ac",
  publicJwk: '{"kty":"OKP","crv":"Ed25519","x":"2RkqkMf9QhZumEKx06ZyoVnCJ9PqY3SM1cLJnIDN-Qo"}',
  privateKey:
    '{"v":1,"kdf":"hkdf-sha256","enc":"A256GCM","salt":"xd8wRdMDr9IWYJQr4DyZpw","iv":"HIeA3xmddESVIVvD","ct":"2qGwFa1WbthgWcQ7sXqRk-d_jch_n4MF3BDCL8NwFfit1GQvv5Ynt4oQc2LtCFw3PCM_TiOOkfwmJAnLcNGjshRNlhjzCW7aP4uNRe1hN3SMpohYxl64fq5fI662gw9xNF4YeUwExbMOkJiVkzlahfUnLqFDCOvjunLWUy09mp7r","tag":"eHFX978sRRF27XJsXN-aAA"}',
};

/** Writes LEGACY_ROW as the signing key of `db`, created and active a day before `now`. */
export function insertLegacySigningKey(db: Database, now: Date) {
  const dayBefore = new Date(now.getTime() - 86_400_000);
  return db.prisma.signingKey.create({
    data: {
      kid: LEGACY_ROW.kid,
      alg: "EdDSA",
      publicJwk: LEGACY_ROW.publicJwk,
      privateKey: LEGACY_ROW.privateKey,
      encrypted: true,
      createdAt: dayBefore,
      activatesAt: dayBefore,
      retiredAt: null,
      expiresAt: null,
    },
  });
}
