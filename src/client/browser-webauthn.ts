import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type { WebAuthnCeremonies } from "./passkey-types.js";

/** The browser's WebAuthn through @simplewebauthn/browser (JSON options in, JSON responses out). */
export const browserWebAuthn: WebAuthnCeremonies = {
  create: (optionsJSON) => startRegistration({ optionsJSON: optionsJSON as never }),
  get: (optionsJSON) => startAuthentication({ optionsJSON: optionsJSON as never }),
};
