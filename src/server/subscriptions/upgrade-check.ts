import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

export interface UpgradeRules {
  readonly graphqlPath: string;
  readonly closing: () => boolean;
  readonly allowedOrigins: ReadonlySet<string>;
  /** Whether this address may open one more connection. */
  readonly addressHasRoom: (address: string) => boolean;
}

/**
 * Why an upgrade is refused before a WebSocket exists, as an HTTP status, or null to accept.
 * Checked in the order a client can fix them: path, availability, URL, origin, address limit.
 */
export function upgradeRefusal(
  request: IncomingMessage,
  address: string,
  rules: UpgradeRules,
): readonly [number, string] | null {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (url.pathname !== rules.graphqlPath) return [404, "Not Found"];
  if (rules.closing()) return [503, "Service Unavailable"];
  // As over HTTP: a token in the URL ends up in logs and histories (RFC 6750 §2.3).
  if (/[?&](access_token|token)=/i.test(url.search)) return [400, "Bad Request"];
  // Cross-site WebSocket hijacking: a browser always sends Origin; one we do not serve is refused.
  // Clients without an Origin (servers, CLIs) are not browsers and may connect.
  const origin = request.headers.origin;
  if (origin !== undefined && !rules.allowedOrigins.has(origin)) return [403, "Forbidden"];
  if (!rules.addressHasRoom(address)) return [429, "Too Many Requests"];
  return null;
}

export function rejectUpgrade(socket: Duplex, [status, text]: readonly [number, string]): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
