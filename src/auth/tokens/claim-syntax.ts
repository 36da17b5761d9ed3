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

/** An `acr` or `amr` entry: a short printable token, like a scope. */
const AUTH_NAME = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/**
 * RFC 9068 §2.2.1 authentication claims: `auth_time` a whole epoch second no later than `iat`
 * (plus `toleranceSeconds`), `acr` one name, `amr` a non-empty list of at most 8 names.
 */
export function isAuthentication(
  value: { authTime: unknown; acr: unknown; amr: unknown },
  iat: number,
  toleranceSeconds = 0,
): boolean {
  const { authTime, acr, amr } = value;
  return (
    typeof authTime === "number" &&
    Number.isSafeInteger(authTime) &&
    authTime >= 0 &&
    authTime <= iat + toleranceSeconds &&
    typeof acr === "string" &&
    AUTH_NAME.test(acr) &&
    Array.isArray(amr) &&
    amr.length > 0 &&
    amr.length <= 8 &&
    amr.every((m) => typeof m === "string" && AUTH_NAME.test(m))
  );
}
