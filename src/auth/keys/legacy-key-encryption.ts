import { createDecipheriv, hkdfSync } from "node:crypto";
import { KeyStoreError } from "./key-store-error.js";

/**
 * The first at-rest format (before JWE): a JSON envelope of AES-256-GCM with an HKDF-SHA256 key
 * from a per-key salt and the kid as additional authenticated data. Read only, so that a database
 * written by an earlier release still starts; `reencryptLegacyKeys` rewrites such rows as JWE.
 */
interface LegacyEnvelope {
  v: 1;
  kdf: "hkdf-sha256";
  enc: "A256GCM";
  salt: string;
  iv: string;
  ct: string;
  tag: string;
}

const INFO = Buffer.from("holdfast signing key encryption v1");

/** True for a stored private key in the legacy envelope (a JSON object), false for anything else. */
export function isLegacyEnvelope(stored: string): boolean {
  return stored.trimStart().startsWith("{");
}

export function decryptLegacyPrivateKey(stored: string, kid: string, secret: string): string {
  let envelope: Partial<LegacyEnvelope>;
  try {
    envelope = JSON.parse(stored) as Partial<LegacyEnvelope>;
  } catch {
    throw new KeyStoreError("key_corrupt", `Signing key ${kid}: encrypted private key is not valid JSON`);
  }
  if (
    envelope.v !== 1 ||
    envelope.kdf !== "hkdf-sha256" ||
    envelope.enc !== "A256GCM" ||
    typeof envelope.salt !== "string" ||
    typeof envelope.iv !== "string" ||
    typeof envelope.ct !== "string" ||
    typeof envelope.tag !== "string"
  ) {
    throw new KeyStoreError("key_corrupt", `Signing key ${kid}: unknown encrypted private key format`);
  }
  try {
    const key = hkdfSync(
      "sha256",
      Buffer.from(secret, "utf8"),
      Buffer.from(envelope.salt, "base64url"),
      INFO,
      32,
    );
    const decipher = createDecipheriv("aes-256-gcm", Buffer.from(key), Buffer.from(envelope.iv, "base64url"));
    decipher.setAAD(Buffer.from(kid, "utf8"));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(envelope.ct, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    // GCM cannot tell a wrong secret from a tampered row; the wrong secret is by far the likelier.
    throw new KeyStoreError(
      "encryption_secret_wrong",
      `Signing key ${kid} cannot be decrypted: KEY_ENCRYPTION_SECRET is not the secret it was encrypted with (or the row was altered)`,
    );
  }
}
