import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { KeyStoreError } from "./key-store-error.js";

/**
 * Private signing keys at rest: AES-256-GCM with a fresh 96-bit IV per key and the kid as
 * additional authenticated data, so a ciphertext copied onto another row fails to decrypt.
 * The key-encryption key comes from HKDF-SHA256 (RFC 5869) with a random per-key salt; HKDF,
 * not a password hash, because the configured secret is required to be at least 32 characters
 * of high-entropy material, not a memorable password.
 */
interface Envelope {
  v: 1;
  kdf: "hkdf-sha256";
  enc: "A256GCM";
  salt: string;
  iv: string;
  ct: string;
  tag: string;
}

const INFO = Buffer.from("holdfast signing key encryption v1");

function deriveKey(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), salt, INFO, 32));
}

export function encryptPrivateKey(plaintext: string, kid: string, secret: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(secret, salt), iv);
  cipher.setAAD(Buffer.from(kid, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const envelope: Envelope = {
    v: 1,
    kdf: "hkdf-sha256",
    enc: "A256GCM",
    salt: salt.toString("base64url"),
    iv: iv.toString("base64url"),
    ct: ct.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
  };
  return JSON.stringify(envelope);
}

export function decryptPrivateKey(stored: string, kid: string, secret: string): string {
  let envelope: Partial<Envelope>;
  try {
    envelope = JSON.parse(stored) as Partial<Envelope>;
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
    const decipher = createDecipheriv(
      "aes-256-gcm",
      deriveKey(secret, Buffer.from(envelope.salt, "base64url")),
      Buffer.from(envelope.iv, "base64url"),
    );
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
