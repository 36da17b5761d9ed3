import { type Clock, epochSeconds } from "../clock.js";
import type { UserAuthentication } from "./viewer.js";

/**
 * Authentication context classes (`acr`), weakest first. `phr` is the OpenID EAP ACR value for a
 * phishing-resistant authentication (a passkey: the browser binds it to our origin); `pwd` is ours.
 */
export const ACR = { password: "pwd", passkey: "phr" } as const;

/** A password was checked now: RFC 8176 `pwd`. */
export function byPassword(clock: Clock): UserAuthentication {
  return { authTime: epochSeconds(clock.now()), acr: ACR.password, amr: ["pwd"] };
}

/**
 * A passkey assertion with user verification was checked now: RFC 8176 `hwk` (proof of possession
 * of a key kept by an authenticator) and `user` (the authenticator tested the user's presence and
 * verified them, WebAuthn §6.2.3).
 */
export function byPasskey(clock: Clock): UserAuthentication {
  return { authTime: epochSeconds(clock.now()), acr: ACR.passkey, amr: ["hwk", "user"] };
}
