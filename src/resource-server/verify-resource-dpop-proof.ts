import { createHash } from "node:crypto";
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify } from "jose";
import { ResourceServerError } from "./resource-server-error.js";

const PROOF_ALGORITHMS = ["EdDSA", "Ed25519", "ES256"];
const MAX_PROOF_LENGTH = 8192;

export interface ProofCheck {
  readonly proof: readonly string[];
  readonly method: string;
  /** The request's URL as the client addressed it (this service's public URL), query and fragment ignored. */
  readonly url: string;
  readonly accessToken: string;
  readonly expectedJkt: string;
  readonly nowSeconds: number;
  readonly iatWindowSeconds: number;
  /** Remembers a `jti` until `untilSeconds`; false when it was already seen (a replay). */
  readonly remember: (jti: string, untilSeconds: number) => Promise<boolean>;
}

/**
 * The resource server's side of RFC 9449 §4.3 and §7: one proof, `typ: dpop+jwt`, an asymmetric alg,
 * a public embedded key whose thumbprint is the token's `cnf.jkt`, `htm`, `htu` without query and
 * fragment, `iat` inside the window, `ath` of this token, and a `jti` not seen before.
 */
export async function verifyResourceDpopProof(check: ProofCheck): Promise<void> {
  const refuse = (): never => {
    throw new ResourceServerError("invalid_dpop_proof", "Invalid DPoP proof", "DPoP");
  };
  if (check.proof.length !== 1) refuse();
  const proof = check.proof[0]!;
  if (proof.length > MAX_PROOF_LENGTH) refuse();
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const header = decodeProtectedHeader(proof);
    if (typeof header.jwk !== "object" || header.jwk === null) refuse();
    jwk = header.jwk as JWK;
    // EmbeddedJWK refuses a private key in the header; typ and alg are pinned here.
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: PROOF_ALGORITHMS }));
  } catch (error) {
    if (error instanceof ResourceServerError) throw error;
    return refuse();
  }
  const { htm, htu, iat, jti, ath } = payload;
  if (htm !== check.method) refuse();
  if (typeof htu !== "string" || stripQuery(htu) !== stripQuery(check.url)) refuse();
  if (typeof iat !== "number" || Math.abs(iat - check.nowSeconds) > check.iatWindowSeconds) refuse();
  if (ath !== createHash("sha256").update(check.accessToken).digest("base64url")) refuse();
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) refuse();
  if ((await calculateJwkThumbprint(jwk, "sha256")) !== check.expectedJkt) refuse();
  if (!(await check.remember(jti as string, (iat as number) + check.iatWindowSeconds))) refuse();
}

function stripQuery(value: string): string | null {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return null;
  }
}
