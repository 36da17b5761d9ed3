import type { Prisma } from "../../db/database.js";
import { encryptPrivateKey, isCurrentFormat } from "./key-encryption.js";
import { decryptLegacyPrivateKey } from "./legacy-key-encryption.js";

/**
 * The at-rest migration: rewrites every private key still in the legacy envelope as a JWE, at start.
 * Each row is replaced only if it still holds the ciphertext read (compare-and-set), so instances
 * starting together do not overwrite each other; both results decrypt to the same key anyway.
 * Returns the kids rewritten by this call.
 */
export async function reencryptLegacyKeys(prisma: Prisma, secret: string): Promise<string[]> {
  const rows = await prisma.signingKey.findMany({
    where: { encrypted: true },
    select: { kid: true, privateKey: true },
  });
  const rewritten: string[] = [];
  for (const row of rows) {
    if (isCurrentFormat(row.privateKey)) continue;
    const plaintext = decryptLegacyPrivateKey(row.privateKey, row.kid, secret);
    const privateKey = await encryptPrivateKey(plaintext, row.kid, secret);
    const { count } = await prisma.signingKey.updateMany({
      where: { kid: row.kid, privateKey: row.privateKey },
      data: { privateKey },
    });
    if (count === 1) rewritten.push(row.kid);
  }
  return rewritten;
}
