// Builds DPoP proofs (RFC 9449 §4.2) for tests: good ones in one line, and deliberately broken ones
// through overrides. It signs by hand (WebCrypto, node:crypto) rather than through the code under test,
// so that a header or alg that jose would refuse to produce can still be produced here.
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { JWK } from "jose";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

export type DpopTestAlg = "EdDSA" | "Ed25519" | "ES256";

export interface DpopTestKey {
  readonly alg: DpopTestAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK as it goes into the proof header: kty, crv, x (and y). */
  readonly publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`, the `cnf.jkt` a bound token carries. */
  readonly jkt: string;
}

/** A fresh key pair for DPoP proofs (EdDSA by default). */
export async function createDpopKey(alg: DpopTestAlg = "EdDSA"): Promise<DpopTestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === "ES256" ? "ES256" : "Ed25519", {
    extractable: true,
  });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  if (kty === undefined || crv === undefined || x === undefined)
    throw new Error("exported JWK is incomplete");
  const publicJwk: JWK = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  return { alg, privateKey, publicKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, "sha256") };
}

/** How to produce the signature segment. */
export type DpopSigner =
  | DpopTestKey // sign with this key (it need not be the key named by the header jwk)
  | { readonly hmacSecret: Uint8Array | string } // HS256 over the signing input
  | "none"; // empty signature segment, as for alg "none"

export interface DpopProofOptions {
  readonly htm: string;
  readonly htu: string;
  /** Epoch seconds or a Date; defaults to the system time (pass the test clock's time in clock tests). */
  readonly iat?: number | Date;
  /** Defaults to 32 random bytes, base64url. */
  readonly jti?: string;
  /** Explicit `ath`; wins over `accessToken`. */
  readonly ath?: string;
  /** Sets `ath` = base64url(SHA-256(accessToken)). */
  readonly accessToken?: string;
  readonly nonce?: string;
  /** Merged into the protected header; a member set to `undefined` is removed. */
  readonly overrideHeader?: Record<string, unknown>;
  /** Merged into the claims; a member set to `undefined` is removed. */
  readonly overridePayload?: Record<string, unknown>;
  /** Defaults to the proof's own key. */
  readonly signWith?: DpopSigner;
}

/** base64url(SHA-256(token)), computed independently of the code under test. */
export function athFor(accessToken: string): string {
  return createHash("sha256").update(accessToken).digest("base64url");
}

function merge(base: Record<string, unknown>, override: Record<string, unknown> | undefined) {
  const merged: Record<string, unknown> = { ...base, ...override };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return merged;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function sign(signer: DpopSigner, input: string): Promise<string> {
  if (signer === "none") return "";
  if ("hmacSecret" in signer)
    return createHmac("sha256", signer.hmacSecret).update(input).digest("base64url");
  const params = signer.alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
  // WebCrypto ECDSA signatures are already the raw r||s form that JWS uses (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign(params, signer.privateKey, Buffer.from(input));
  return Buffer.from(signature).toString("base64url");
}

/** A compact-serialised DPoP proof JWT. */
export async function createDpopProof(key: DpopTestKey, options: DpopProofOptions): Promise<string> {
  const iat = options.iat ?? new Date();
  const header = merge({ typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk }, options.overrideHeader);
  const ath = options.ath ?? (options.accessToken === undefined ? undefined : athFor(options.accessToken));
  const payload = merge(
    {
      jti: options.jti ?? randomBytes(32).toString("base64url"),
      htm: options.htm,
      htu: options.htu,
      iat: typeof iat === "number" ? iat : Math.floor(iat.getTime() / 1000),
      ath,
      nonce: options.nonce,
    },
    options.overridePayload,
  );
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${await sign(options.signWith ?? key, signingInput)}`;
}
