import { createHash, createPublicKey, type KeyObject, verify as verifySignature } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Clock } from "../../clock.js";
import { epochSeconds } from "../../clock.js";
import { DpopNonceRequiredError } from "../../errors/app-error.js";
import type { DpopNonces } from "./dpop-nonces.js";
import { expectedHtu } from "./expected-htu.js";
import type { DpopCheck } from "./invalid-dpop-proof-error.js";
import { InvalidDpopProofError } from "./invalid-dpop-proof-error.js";
import type { ReplayStore } from "./replay-store.js";

/**
 * Asymmetric algorithms a proof may use. `Ed25519` is the fully-specified name (RFC 9864) that current
 * clients such as oauth4webapi send for the same Ed25519 signature that `EdDSA` names.
 */
export type DpopAlgorithm = "EdDSA" | "Ed25519" | "ES256";

export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ["EdDSA", "Ed25519", "ES256"];

/** Largest proof accepted, in characters: an Ed25519 or P-256 proof is well under 1 KiB. */
export const MAX_DPOP_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

export interface VerifyDpopProofInput {
  /** Every `DPoP` request header value, as received. */
  readonly headerValues: readonly string[];
  /** The request's HTTP method, as received. */
  readonly method: string;
  /** The configured public URL of the endpoint, never one built from the Host header. */
  readonly url: string;
  /** When given, the proof must carry `ath` = base64url(SHA-256(accessToken)) (RFC 9449 §4.3 item 12). */
  readonly accessToken?: string;
  /** When given, the proof key's RFC 7638 thumbprint must equal it (the token's `cnf.jkt`). */
  readonly expectedJkt?: string;
}

export interface VerifyDpopProofDeps {
  readonly clock: Clock;
  readonly replayStore: ReplayStore;
  /** Accepted distance between `iat` and now, either way (default 60). */
  readonly iatWindowSeconds?: number;
  /** When set, every proof must carry a current server nonce (RFC 9449 §8, §9). */
  readonly nonces?: DpopNonces | null;
  readonly algorithms?: readonly DpopAlgorithm[];
  /** Development: loopback hosts on the configured port name the same endpoint (see expected-htu.ts). */
  readonly loopbackAliases?: boolean;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key. */
  readonly jkt: string;
  readonly jti: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BASE64URL_32_BYTES = /^[A-Za-z0-9_-]{43}$/;
/** JWK members that hold private or symmetric key material (RFC 7518 §6, RFC 8037 §2). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"] as const;

type PublicJwk =
  | { kty: "OKP"; crv: "Ed25519"; x: string }
  | { kty: "EC"; crv: "P-256"; x: string; y: string };

function fail(check: DpopCheck): never {
  throw new InvalidDpopProofError(check);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function decodeJson(segment: string, check: DpopCheck): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    fail(check);
  }
  if (!isObject(value)) fail(check);
  return value;
}

/**
 * The header `jwk` reduced to the members RFC 7638 hashes and WebCrypto imports, after checking it is a
 * public key of the type `alg` requires. Importing only these members means `key_ops`, `ext` or `use`
 * tricks never reach the import.
 */
function publicJwkFor(alg: DpopAlgorithm, jwk: unknown): PublicJwk {
  if (!isObject(jwk)) fail("jwk");
  for (const member of PRIVATE_MEMBERS) if (member in jwk) fail("jwk");
  if (jwk.alg !== undefined && jwk.alg !== alg) fail("jwk");
  if (jwk.use !== undefined && jwk.use !== "sig") fail("jwk");
  const { x, y } = jwk;
  if (typeof x !== "string" || !BASE64URL_32_BYTES.test(x)) fail("jwk");
  if (alg === "ES256") {
    if (jwk.kty !== "EC" || jwk.crv !== "P-256") fail("jwk");
    if (typeof y !== "string" || !BASE64URL_32_BYTES.test(y)) fail("jwk");
    return { kty: "EC", crv: "P-256", x, y };
  }
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || y !== undefined) fail("jwk");
  return { kty: "OKP", crv: "Ed25519", x };
}

/**
 * RFC 7638 §3.2: the required members in lexicographic order, no whitespace. The values were checked
 * to be base64url, so they need no JSON escaping.
 */
function thumbprintInput(jwk: PublicJwk): string {
  return jwk.kty === "EC"
    ? `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
    : `{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`;
}

interface ProofKey {
  readonly jkt: string;
  readonly key: KeyObject;
}

/**
 * Imported proof keys by alg and key material (so, by thumbprint). A client signs many proofs with
 * one key, and importing (P-256 point validation included) costs more than hashing; the entry is a
 * pure function of its cache key, so a hit is exactly what a fresh import would give.
 */
const proofKeys = new LRUCache<string, ProofKey>({ max: 1024 });

function proofKeyFor(alg: DpopAlgorithm, jwk: PublicJwk): ProofKey {
  const material = thumbprintInput(jwk);
  const cacheKey = `${alg} ${material}`;
  const cached = proofKeys.get(cacheKey);
  if (cached) return cached;
  let key: KeyObject;
  try {
    // OpenSSL validates the key on import: a P-256 point off the curve is refused here.
    key = createPublicKey({ key: jwk, format: "jwk" });
  } catch {
    // Not a usable public key, e.g. a P-256 point that is not on the curve.
    fail("jwk");
  }
  // SHA-256 of the RFC 7638 input; node:crypto hashes synchronously, where WebCrypto's digest is
  // an asynchronous round trip that costs more than the hash itself.
  const entry = { jkt: createHash("sha256").update(material).digest("base64url"), key };
  proofKeys.set(cacheKey, entry);
  return entry;
}

/**
 * RFC 7515 §5.2 step 8 for the two algorithms a proof may use: the signature over
 * `header.payload`, checked by node:crypto in the calling thread. (jose's compactVerify goes through
 * WebCrypto, whose asynchronous job costs about twice the verification itself.) ES256 signatures
 * are R ‖ S, 64 bytes (RFC 7518 §3.4); Ed25519 ones are 64 bytes too (RFC 8037 §3.1).
 */
function signatureIsValid(alg: DpopAlgorithm, key: KeyObject, proof: string): boolean {
  const lastDot = proof.lastIndexOf(".");
  const signature = Buffer.from(proof.slice(lastDot + 1), "base64url");
  if (signature.length !== 64) return false;
  const signingInput = Buffer.from(proof.slice(0, lastDot), "ascii");
  try {
    return alg === "ES256"
      ? verifySignature("sha256", signingInput, { key, dsaEncoding: "ieee-p1363" }, signature)
      : verifySignature(null, signingInput, key, signature);
  } catch {
    return false;
  }
}

/** base64url(SHA-256(accessToken)), the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash("sha256").update(accessToken, "utf8").digest("base64url");
}

/**
 * Verifies the DPoP proof of one request, every check of RFC 9449 §4.3: cheap structural checks
 * first, then the signature, then the nonce, and the replay store last, so only a fully valid proof
 * consumes its `jti`.
 *
 * @throws DpopNonceRequiredError when nonces are configured and the proof lacks a current one
 * @throws InvalidDpopProofError (`UNAUTHENTICATED`, `invalid_dpop_proof`) for any other defect
 */
export async function verifyDpopProof(
  input: VerifyDpopProofInput,
  deps: VerifyDpopProofDeps,
): Promise<VerifiedDpopProof> {
  const algorithms = deps.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  const windowSeconds = deps.iatWindowSeconds ?? 60;
  const endpoint = expectedHtu(input.url, { loopbackAliases: deps.loopbackAliases ?? false });

  // §4.3 items 1–2: exactly one DPoP header holding one compact JWS (no JSON serialisation, no JWE).
  if (input.headerValues.length !== 1) fail("header_count");
  const proof = input.headerValues[0]!;
  if (proof.length > MAX_DPOP_PROOF_LENGTH) fail("size");
  if (!COMPACT_JWS.test(proof)) fail("compact_jws");
  const [headerPart, payloadPart] = proof.split(".") as [string, string, string];

  // §4.3 items 4, 5, 7: typ, an allowed asymmetric alg, and a public (never private) jwk of its type.
  const header = decodeJson(headerPart, "header");
  if (header.typ !== "dpop+jwt") fail("typ");
  const alg = header.alg;
  if (typeof alg !== "string" || !algorithms.includes(alg as DpopAlgorithm)) fail("alg");
  const jwk = publicJwkFor(alg as DpopAlgorithm, header.jwk);

  // §4.3 items 3, 8, 9, 11, 12: the claims.
  const claims = decodeJson(payloadPart, "payload");
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) fail("jti");
  // Item 8: methods are case-sensitive (RFC 9110 §9.1), "post" is not "POST".
  if (typeof htm !== "string" || htm !== input.method) fail("htm");
  // Item 9: compare without query and fragment, after RFC 3986 §6.2.2/§6.2.3 normalisation.
  // The exact configured URL needs no parsing (it normalises to `endpoint.expected` by definition).
  if (typeof htu !== "string" || (htu !== input.url && !endpoint.matches(htu)))
    throw new InvalidDpopProofError("htu", { expected: endpoint.expected });
  // Item 11: iat within the window, either side of now (jose has no iat-only check, so it is done here).
  const now = epochSeconds(deps.clock.now());
  if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(now - iat) > windowSeconds) fail("iat");
  // Item 12: ath when an access token accompanies the proof; base64url without padding (RFC 7515 §2).
  if (input.accessToken !== undefined && ath !== accessTokenHash(input.accessToken)) fail("ath");

  // Item 12: the key is the one the access token is bound to (cnf.jkt).
  const { jkt, key } = proofKeyFor(alg as DpopAlgorithm, jwk);
  if (input.expectedJkt !== undefined && jkt !== input.expectedJkt) fail("jkt");

  // §4.3 item 6: the signature, with the key from the header and only the alg it declared. A
  // critical extension (RFC 7515 §4.1.11) or an unencoded payload (RFC 7797) is not understood here.
  if (header.crit !== undefined || header.b64 !== undefined) fail("signature");
  if (!signatureIsValid(alg as DpopAlgorithm, key, proof)) fail("signature");

  // §4.3 item 10: a server-provided nonce, when we require one.
  if (deps.nonces) {
    const { nonce } = claims;
    if (typeof nonce !== "string" || !deps.nonces.isValid(nonce))
      throw new DpopNonceRequiredError(deps.nonces.current());
  }

  // §11.1: one use per proof while it could be accepted, i.e. until iat + window has passed. Scoped by
  // key so that one client's weak or reused jti cannot collide with another's.
  const expiresAt = new Date((Math.floor(iat + windowSeconds) + 1) * 1000);
  if (!(await deps.replayStore.remember(`${jkt}:${jti}`, expiresAt))) fail("replay");

  return { jkt, jti };
}
