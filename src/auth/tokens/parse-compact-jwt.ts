import { isStrictJsonObject } from "./strict-json.js";

/** Our tokens are well under 1 KiB; anything this long is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Our kids are RFC 7638 thumbprints; anything else (paths, quotes, SQL) never reaches a lookup. */
const KID = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * The only header parameters we issue (RFC 9068 §2.1). Everything else is refused: `jku`, `x5u`,
 * `jwk`, `x5c` would name a key we do not own (RFC 8725 §3.10), `crit`/`b64` change how the token
 * is read (RFC 7515 §4.1.11, RFC 7797), `enc`/`zip` belong to JWE.
 */
const ALLOWED_HEADER = new Set(["alg", "kid", "typ"]);

const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface CompactJwtHeader {
  alg: string;
  kid: string;
}

/**
 * Structural checks made before any cryptography: one compact JWS (three base64url segments, so
 * no JWE and no JSON serialisation), bounded in size, strict JSON in header and payload, and a
 * header made only of `alg`, `kid` and `typ`. Returns null when the token fails any of them.
 */
export function parseCompactJwt(token: unknown): CompactJwtHeader | null {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) return null;

  const headerJson = decodeSegment(h);
  const payloadJson = decodeSegment(p);
  if (headerJson === null || payloadJson === null) return null;
  if (!isStrictJsonObject(headerJson) || !isStrictJsonObject(payloadJson)) return null;

  const header = JSON.parse(headerJson) as Record<string, unknown>;
  for (const name of Object.keys(header)) if (!ALLOWED_HEADER.has(name)) return null;
  const { alg, kid } = header;
  if (typeof alg !== "string" || typeof kid !== "string" || !KID.test(kid)) return null;
  return { alg, kid };
}

function decodeSegment(segment: string): string | null {
  try {
    return utf8.decode(Buffer.from(segment, "base64url"));
  } catch {
    return null;
  }
}
