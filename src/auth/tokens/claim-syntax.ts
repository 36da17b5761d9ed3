/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** A space-separated list of scope tokens; the empty string is no scopes. */
const SCOPE_LIST = /^(?:[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*)?$/;
/** Base64url SHA-256 (RFC 7638 thumbprint): 32 bytes → 43 characters, no padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

export function isScopeList(value: string): boolean {
  return SCOPE_LIST.test(value);
}

export function isJkt(value: unknown): value is string {
  return typeof value === "string" && JKT.test(value);
}
