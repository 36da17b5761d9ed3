/** Why a request was refused; stable and snake_case, like Holdfast's own `extensions.reason`. */
export type ResourceServerErrorReason =
  | "invalid_token"
  | "token_expired"
  | "token_revoked"
  | "dpop_required"
  | "invalid_dpop_proof"
  /** `requireFreshRevocations` is set and the revocation state is older than it allows. */
  | "revocation_state_stale";

/**
 * A refused request. Answer it with `status` and the `WWW-Authenticate` value of `challenge()`
 * (RFC 6750 §3 for Bearer, RFC 9449 §7.1 for DPoP); decide on `reason`, never on `message`.
 */
export class ResourceServerError extends Error {
  readonly status: number;
  constructor(
    readonly reason: ResourceServerErrorReason,
    message: string,
    /** The scheme the caller used, for the challenge. */
    readonly scheme: "Bearer" | "DPoP" = "Bearer",
    readonly resourceMetadata?: string,
  ) {
    super(message);
    this.name = "ResourceServerError";
    this.status = reason === "revocation_state_stale" ? 503 : 401;
  }

  challenge(): string {
    const error =
      this.reason === "invalid_dpop_proof"
        ? "invalid_dpop_proof"
        : this.reason === "revocation_state_stale"
          ? "temporarily_unavailable"
          : "invalid_token";
    const scheme =
      this.reason === "dpop_required" || this.reason === "invalid_dpop_proof" ? "DPoP" : this.scheme;
    const metadata = this.resourceMetadata ? `, resource_metadata="${this.resourceMetadata}"` : "";
    const algs = scheme === "DPoP" ? ', algs="EdDSA ES256"' : "";
    return `${scheme} error="${error}", error_description="${this.message.replace(/["\\]/g, "")}"${metadata}${algs}`;
  }
}
