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
 * right cause. One exception: a proof for another URL is told the URL it should name (`expected`),
 * the endpoint's public address, which every client must know anyway; without it a client pointed at
 * an alias of the server sees a bare refusal it cannot act on.
 */
export class InvalidDpopProofError extends UnauthenticatedError {
  readonly expected: string | undefined;
  constructor(
    readonly check: DpopCheck,
    detail: { readonly expected?: string } = {},
  ) {
    super("invalid_dpop_proof", "Invalid DPoP proof");
    this.expected = detail.expected;
  }
  override publicExtensions(): Record<string, unknown> {
    return this.expected === undefined
      ? super.publicExtensions()
      : { reason: this.reason, expected: this.expected };
  }
}
