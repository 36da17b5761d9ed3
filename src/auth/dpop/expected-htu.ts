import { normalizeHtu } from "./normalize-htu.js";

// RFC 9449 §4.3 item 9: the proof's `htu` names the request's target URI. The server compares it with
// its configured public URL, never one built from the Host header. This module is the one place that
// decides which `htu` values match and which URL a refusal names as expected.

/** The `htu` values one endpoint accepts. */
export interface ExpectedHtu {
  /** The configured endpoint URL, normalised: what a refusal names in `extensions.expected`. */
  readonly expected: string;
  /** Whether a proof's `htu` names this endpoint. */
  matches(htu: string): boolean;
}

export interface ExpectedHtuOptions {
  /**
   * Development only: when the configured host is a loopback name, `localhost`, `127.0.0.1` and
   * `[::1]` on the same scheme and port name the same endpoint. Browsers reach a local server under
   * any of the three, and each builds `htu` from the address bar; no other machine can use them.
   */
  readonly loopbackAliases?: boolean;
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"] as const;

const cache = new Map<string, ExpectedHtu>();

/** The accepted `htu` values for the endpoint at `url` (cached: it is asked on every request). */
export function expectedHtu(url: string, options: ExpectedHtuOptions = {}): ExpectedHtu {
  const aliases = options.loopbackAliases === true;
  const key = `${aliases ? "1" : "0"} ${url}`;
  let found = cache.get(key);
  if (!found) {
    found = build(url, aliases);
    if (cache.size >= 32) cache.clear();
    cache.set(key, found);
  }
  return found;
}

function build(url: string, loopbackAliases: boolean): ExpectedHtu {
  const expected = normalizeHtu(url);
  if (expected === null) throw new TypeError("verifyDpopProof: url must be an absolute http(s) URL");
  const accepted = new Set([expected]);
  if (loopbackAliases) {
    const parsed = new URL(expected);
    if ((LOOPBACK_HOSTS as readonly string[]).includes(parsed.hostname)) {
      for (const host of LOOPBACK_HOSTS) {
        parsed.hostname = host;
        accepted.add(`${parsed.protocol}//${parsed.host}${parsed.pathname}`);
      }
    }
  }
  return Object.freeze({
    expected,
    matches: (htu: string) => {
      const normalized = normalizeHtu(htu);
      return normalized !== null && accepted.has(normalized);
    },
  });
}

/**
 * The origins that are the same site as `publicUrl` in development (loopback aliases), for CORS and
 * the pages: empty unless aliases are on and the configured host is a loopback name.
 */
export function loopbackOrigins(publicUrl: string, options: ExpectedHtuOptions = {}): string[] {
  if (options.loopbackAliases !== true) return [];
  const parsed = new URL(publicUrl);
  if (!(LOOPBACK_HOSTS as readonly string[]).includes(parsed.hostname)) return [];
  return LOOPBACK_HOSTS.map((host) => {
    parsed.hostname = host;
    return parsed.origin;
  });
}
