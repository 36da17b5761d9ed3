export type KeyStoreErrorReason =
  | "encryption_secret_missing"
  | "encryption_secret_wrong"
  | "key_corrupt"
  | "no_signing_key";

/**
 * A signing-key problem the operator must fix (raised at start or reload), never a client's fault:
 * the server should refuse to start rather than run without the keys it promised.
 */
export class KeyStoreError extends Error {
  constructor(
    readonly reason: KeyStoreErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "KeyStoreError";
  }
}
