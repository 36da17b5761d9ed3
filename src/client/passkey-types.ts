// The public types of step-up (RFC 9470) and passkeys (WebAuthn) in the client.

/** What the server asked for when it refused for want of a recent authentication (RFC 9470 §3). */
export interface StepUpChallenge {
  /** Most seconds since the user's last authentication the operation accepts. */
  readonly maxAge?: number;
  /** Authentication context classes that would pass (`pwd`, `phr` for a passkey). */
  readonly acrValues?: readonly string[];
}

/** How the user proves themself again: their password, or a passkey (the client runs the ceremony). */
export type StepUpAnswer = { readonly password: string } | { readonly passkey: true };

/**
 * The browser's WebAuthn ceremonies, on the JSON forms the server speaks. The browser entry uses
 * @simplewebauthn/browser; Node and tests inject their own (a software authenticator, say).
 */
export interface WebAuthnCeremonies {
  /** navigator.credentials.create with the server's creation options; a RegistrationResponseJSON. */
  create(optionsJSON: unknown): Promise<unknown>;
  /** navigator.credentials.get with the server's request options; an AuthenticationResponseJSON. */
  get(optionsJSON: unknown): Promise<unknown>;
}

export interface PasskeyInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly deviceType: string;
  readonly backedUp: boolean;
}
