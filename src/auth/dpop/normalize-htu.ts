// RFC 9449 §4.3 item 9: `htu` is compared with the target URI "without query and fragment parts",
// after syntax- and scheme-based normalisation (RFC 3986 §6.2.2, §6.2.3).

/** Printable ASCII without space: what a URI may contain (RFC 3986 §2). */
const URI_CHARS = /^[\x21-\x7e]+$/;
const MAX_HTU_LENGTH = 2048;
const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * `scheme://host[:port]/path` of an http(s) URI: scheme and host lower-cased, default port dropped, dot
 * segments removed, percent-encoding normalised (RFC 3986 §6.2.2.1–3); query and fragment cut. `null`
 * when the value is not an absolute http(s) URI without userinfo.
 */
export function normalizeHtu(value: string): string | null {
  if (value.length > MAX_HTU_LENGTH || !URI_CHARS.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  // Userinfo has no place in a target URI (RFC 9110 §4.2.4); refusing it keeps comparison simple.
  if (url.username !== "" || url.password !== "") return null;
  const path = url.pathname.replace(PERCENT_ENCODED, (match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : match.toUpperCase();
  });
  // `host` is already lower-case and omits the scheme's default port (WHATWG URL == RFC 3986 §6.2.3).
  return `${url.protocol}//${url.host}${path}`;
}
