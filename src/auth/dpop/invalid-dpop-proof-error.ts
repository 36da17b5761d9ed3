import { UnauthenticatedError } from "../../errors/app-error.js";

/** Which RFC 9449 §4.3 check refused a proof. For logs and tests only: clients see `invalid_dpop_proof`. */
export type DpopCheck =
  | "header_count"
  | "size"
  | "compact_jws"
  | "header"
  | "typ"
  | "alg"
  | "jwk"
  | "payload"
  | "jti"
  | "htm"
  | "htu"
  | "iat"
  | "ath"
  | "jkt"
  | "signature"
  | "replay";

/**
 * A DPoP proof was refused. The public reason stays coarse (`invalid_dpop_proof`), so a prober learns
 * nothing about which check failed; `check` names it for logs and for tests that must fail for the
 * right cause.
 */
export class InvalidDpopProofError extends UnauthenticatedError {
  constructor(readonly check: DpopCheck) {
    super("invalid_dpop_proof", "Invalid DPoP proof");
  }
}
