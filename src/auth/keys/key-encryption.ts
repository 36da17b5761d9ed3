import { hkdfSync } from "node:crypto";
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, type ProtectedHeaderParameters } from "jose";
import { KeyStoreError } from "./key-store-error.js";
import { decryptLegacyPrivateKey, isLegacyEnvelope } from "./legacy-key-encryption.js";

/**
 * Private signing keys at rest, as a compact JWE (RFC 7516) made by jose: a fresh random content
 * key per signing key encrypts the JWK with A256GCM and is wrapped with A256KW (RFC 7518 §4.4)
 * under the key-encryption key. The protected header, authenticated as AAD (RFC 7516 §5.1 step 14),
 * names the signing key (`signing_kid`), so a ciphertext copied onto another row is refused, and
 * the key-encryption key (`kid`, a digest of it), so a wrong secret is told apart from a bad row.
 *
 * The key-encryption key comes from HKDF-SHA256 (RFC 5869): the configured secret is required to
 * be at least 32 characters of high-entropy material, not a memorable password.
 */
const KEY_MANAGEMENT = "A256KW";
const CONTENT_ENCRYPTION = "A256GCM";

interface KeyEncryptionKey {
  readonly key: Uint8Array;
  readonly kid: string;
}

function keyEncryptionKey(secret: string): KeyEncryptionKey {
  const ikm = Buffer.from(secret, "utf8");
  const key = new Uint8Array(hkdfSync("sha256", ikm, "holdfast", "signing key encryption v2 A256KW", 32));
  const id = Buffer.from(hkdfSync("sha256", ikm, "holdfast", "key-encryption key id v2", 12));
  return { key, kid: id.toString("base64url") };
}

interface StoredHeader extends ProtectedHeaderParameters {
  signing_kid?: unknown;
}

export async function encryptPrivateKey(plaintext: string, kid: string, secret: string): Promise<string> {
  const kek = keyEncryptionKey(secret);
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({
      alg: KEY_MANAGEMENT,
      enc: CONTENT_ENCRYPTION,
      kid: kek.kid,
      cty: "jwk+json",
      signing_kid: kid,
    })
    .encrypt(kek.key);
}

/** True when `stored` is in the current form (a JWE): rows still in the legacy form get re-encrypted. */
export function isCurrentFormat(stored: string): boolean {
  return !isLegacyEnvelope(stored);
}

export async function decryptPrivateKey(stored: string, kid: string, secret: string): Promise<string> {
  if (isLegacyEnvelope(stored)) return decryptLegacyPrivateKey(stored, kid, secret);
  const corrupt = (what: string) => new KeyStoreError("key_corrupt", `Signing key ${kid}: ${what}`);
  let header: StoredHeader;
  try {
    header = decodeProtectedHeader(stored) as StoredHeader;
  } catch {
    throw corrupt("encrypted private key is neither a JWE nor the legacy format");
  }
  const kek = keyEncryptionKey(secret);
  if (header.kid !== kek.kid) {
    throw new KeyStoreError(
      "encryption_secret_wrong",
      `Signing key ${kid} was encrypted under another KEY_ENCRYPTION_SECRET than the one configured`,
    );
  }
  if (header.signing_kid !== kid) throw corrupt("encrypted private key belongs to another key's row");
  try {
    const { plaintext } = await compactDecrypt(stored, kek.key, {
      keyManagementAlgorithms: [KEY_MANAGEMENT],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
    });
    return new TextDecoder().decode(plaintext);
  } catch {
    throw corrupt("encrypted private key fails authentication (the row was altered)");
  }
}
