import { DpopNonceRequiredError, type UnauthenticatedError } from "../errors/app-error.js";

export const DPOP_ALGS = "EdDSA ES256";

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "")}"`;
}

/**
 * The WWW-Authenticate challenge for a refused token or proof: RFC 6750 §3 for Bearer,
 * RFC 9449 §7.1 for DPoP (with the accepted `algs`), and a `DPoP-Nonce` header when a nonce is due.
 */
export function challengeHeaders(error: UnauthenticatedError, usedDpop: boolean): Map<string, string> {
  const headers = new Map<string, string>();
  const description = quote(error.message);
  switch (error.reason) {
    case "use_dpop_nonce":
      headers.set(
        "www-authenticate",
        `DPoP error="use_dpop_nonce", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      if (error instanceof DpopNonceRequiredError) headers.set("dpop-nonce", error.nonce);
      break;
    case "invalid_dpop_proof":
      headers.set(
        "www-authenticate",
        `DPoP error="invalid_dpop_proof", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      break;
    case "dpop_required":
      headers.set(
        "www-authenticate",
        `DPoP error="invalid_token", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      break;
    default:
      headers.set(
        "www-authenticate",
        usedDpop
          ? `DPoP error="invalid_token", error_description=${description}, algs=${quote(DPOP_ALGS)}`
          : `Bearer error="invalid_token", error_description=${description}`,
      );
  }
  return headers;
}
