/** Who we are to a WebAuthn authenticator: the RP ID it scopes credentials to, and our origins. */
export interface RelyingParty {
  /** WebAuthn §5.1.3 / §13.4.9: the effective domain of our origin (no scheme, no port). */
  readonly id: string;
  readonly name: string;
  /** Origins a client's `clientDataJSON.origin` may name (WebAuthn §7.1 step 9, §7.2 step 13). */
  readonly origins: readonly string[];
}

/**
 * The relying party of a deployment, from PUBLIC_URL alone: every instance agrees, and a passkey
 * made for one host is never accepted for another. The one place this is derived.
 */
export function relyingPartyFor(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: "Holdfast", origins: [url.origin] };
}
