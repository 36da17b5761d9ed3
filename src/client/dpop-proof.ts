import { base64url } from "./base64url.js";

export type DpopAlgorithm = "ES256" | "EdDSA";

/**
 * A fresh DPoP key pair. `extractable: false` makes WebCrypto refuse to export the private key, to
 * anyone, this code included: a script that reaches the page can use the key while it runs but cannot
 * carry it away, so a stolen token stays useless elsewhere (RFC 9449 §2, §11.4).
 */
export async function generateDpopKeyPair(algorithm: DpopAlgorithm = "ES256"): Promise<CryptoKeyPair> {
  const params = algorithm === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  return (await crypto.subtle.generateKey(params, false, ["sign", "verify"])) as CryptoKeyPair;
}

export interface DpopProofClaims {
  /** HTTP method of the request. */
  readonly htm: string;
  /** Target URI; query and fragment are stripped here (RFC 9449 §4.2). */
  readonly htu: string;
  /** Epoch seconds. */
  readonly iat: number;
  /** Present when the request carries an access token: its hash goes in `ath` (RFC 9449 §4.2). */
  readonly accessToken?: string | undefined;
  /** The last nonce the server gave (RFC 9449 §8). */
  readonly nonce?: string | undefined;
}

/** Signs DPoP proofs with one key pair; the public JWK is exported once. */
export interface DpopSigner {
  readonly algorithm: DpopAlgorithm;
  sign(claims: DpopProofClaims): Promise<string>;
}

export async function createDpopSigner(keyPair: CryptoKeyPair): Promise<DpopSigner> {
  const algorithm = algorithmOf(keyPair.privateKey);
  // Public keys are always exportable in WebCrypto; only the public members go in the header (§4.2).
  const full = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  const jwk =
    algorithm === "ES256"
      ? { kty: full.kty, crv: full.crv, x: full.x, y: full.y }
      : { kty: full.kty, crv: full.crv, x: full.x };
  const header = base64url(JSON.stringify({ typ: "dpop+jwt", alg: algorithm, jwk }));
  const signParams = algorithm === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };

  return Object.freeze({
    algorithm,
    async sign(claims: DpopProofClaims): Promise<string> {
      const payload: Record<string, string | number> = {
        jti: randomId(),
        htm: claims.htm,
        htu: htuOf(claims.htu),
        iat: claims.iat,
      };
      if (claims.accessToken !== undefined) payload.ath = await accessTokenHash(claims.accessToken);
      if (claims.nonce !== undefined) payload.nonce = claims.nonce;
      const signingInput = `${header}.${base64url(JSON.stringify(payload))}`;
      // ECDSA in WebCrypto yields r‖s (IEEE P1363), which is exactly the JWS ES256 form (RFC 7518 §3.4).
      const signature = await crypto.subtle.sign(
        signParams,
        keyPair.privateKey,
        new TextEncoder().encode(signingInput),
      );
      return `${signingInput}.${base64url(signature)}`;
    },
  });
}

/** `ath`: base64url(SHA-256(ASCII access token)), RFC 9449 §4.2. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken)));
}

/** The request URI without query and fragment (RFC 9449 §4.2, `htu`). */
export function htuOf(url: string): string {
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}

function algorithmOf(key: CryptoKey): DpopAlgorithm {
  if (key.algorithm.name === "ECDSA" && (key.algorithm as EcKeyAlgorithm).namedCurve === "P-256")
    return "ES256";
  if (key.algorithm.name === "Ed25519") return "EdDSA";
  throw new TypeError(`unsupported DPoP key algorithm: ${key.algorithm.name}`);
}

function randomId(): string {
  // 128 bits: a `jti` must not repeat within the server's replay window (RFC 9449 §11.1).
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}
