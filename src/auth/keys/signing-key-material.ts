import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

export type SigningAlg = "EdDSA" | "ES256";

/** The public members of a signing key, and nothing else (RFC 7517 §4, RFC 8037 §2, RFC 7518 §6.2.1). */
export interface PublicSigningJwk {
  kty: "OKP" | "EC";
  crv: "Ed25519" | "P-256";
  x: string;
  y?: string;
}

export interface SigningKeyMaterial {
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  kid: string;
  publicJwk: PublicSigningJwk;
  privateJwk: JWK;
}

const SHAPE: Record<SigningAlg, { kty: "OKP" | "EC"; crv: "Ed25519" | "P-256" }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
};

export function isSigningAlg(value: unknown): value is SigningAlg {
  return value === "EdDSA" || value === "ES256";
}

/** A new key pair. Extractable only here, once, so it can be stored; in use it is imported non-extractable. */
export async function generateSigningKeyMaterial(alg: SigningAlg): Promise<SigningKeyMaterial> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = publicMembers(await exportJWK(pair.publicKey), alg);
  const privateJwk = await exportJWK(pair.privateKey);
  return { kid: await calculateJwkThumbprint(publicJwk, "sha256"), publicJwk, privateJwk };
}

/**
 * Copies only the public members for `alg`, throwing when the shape is wrong. Used on every key
 * read back from the database, so a private member (`d`) can never reach the JWKS.
 */
export function publicMembers(jwk: JWK, alg: SigningAlg): PublicSigningJwk {
  const shape = SHAPE[alg];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv || typeof jwk.x !== "string") {
    throw new TypeError(`not a ${alg} public key`);
  }
  if (shape.kty === "EC") {
    if (typeof jwk.y !== "string") throw new TypeError(`not a ${alg} public key`);
    return { kty: shape.kty, crv: shape.crv, x: jwk.x, y: jwk.y };
  }
  return { kty: shape.kty, crv: shape.crv, x: jwk.x };
}

/** True when `privateJwk` is the private half of `publicJwk`. */
export function isPrivateHalfOf(privateJwk: JWK, publicJwk: PublicSigningJwk): boolean {
  return (
    typeof privateJwk.d === "string" &&
    privateJwk.kty === publicJwk.kty &&
    privateJwk.crv === publicJwk.crv &&
    privateJwk.x === publicJwk.x &&
    privateJwk.y === publicJwk.y
  );
}
