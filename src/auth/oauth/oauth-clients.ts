import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { OAuthClientCredential } from "../../config/config.js";

export type ClientAuthentication =
  /** No `Authorization` header at all. */
  | { readonly kind: "none" }
  /** A header that is malformed, names no known client, or has the wrong secret: all look alike. */
  | { readonly kind: "invalid" }
  | { readonly kind: "client"; readonly clientId: string };

/**
 * The confidential clients (resource servers) allowed to introspect tokens, authenticated with HTTP
 * Basic (`client_secret_basic`, RFC 6749 §2.3.1). Secrets are kept as SHA-256 digests and compared in
 * constant time; an unknown id is compared against a random digest, so the answer and its time do not
 * reveal which ids exist.
 */
export class OAuthClients {
  readonly #byId: ReadonlyMap<string, Buffer>;
  readonly #decoy = createHash("sha256").update(randomBytes(32)).digest();

  constructor(clients: readonly OAuthClientCredential[]) {
    this.#byId = new Map(clients.map((c) => [c.id, c.secretSha256]));
  }

  get size(): number {
    return this.#byId.size;
  }

  authenticate(authorization: readonly string[]): ClientAuthentication {
    if (authorization.length === 0) return { kind: "none" };
    if (authorization.length > 1) return { kind: "invalid" };
    const match = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(authorization[0]!);
    if (!match) return { kind: "invalid" };
    const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { kind: "invalid" };
    let id: string;
    let secret: string;
    try {
      // RFC 6749 §2.3.1: both parts are application/x-www-form-urlencoded before Base64.
      id = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      return { kind: "invalid" };
    }
    const expected = this.#byId.get(id);
    const given = createHash("sha256").update(secret, "utf8").digest();
    const equal = timingSafeEqual(given, expected ?? this.#decoy);
    return equal && expected !== undefined ? { kind: "client", clientId: id } : { kind: "invalid" };
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}
