import { createIndexedDbDpopKeyStore } from "../browser.js";
import { createDpopSigner, type DpopSigner } from "../dpop-proof.js";

// Requests the console sends by hand, outside the SDK: the attacker's (a copied token, with or without
// a proof) and the widget's (a narrowed token). What the server answers is shown as it is.

export interface RawAnswer {
  readonly status: number;
  /** `CODE/reason` of the first error, or null when there was none. */
  readonly refusal: string | null;
  readonly errors: readonly {
    message: string;
    path?: readonly (string | number)[];
    code: string;
    reason?: string;
  }[];
  readonly data: Record<string, unknown> | null;
  readonly wwwAuthenticate: string | null;
}

export interface RawRequest {
  readonly endpoint: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** Sent as `Authorization: <scheme> <token>`. */
  readonly token?: { readonly scheme: "Bearer" | "DPoP"; readonly value: string };
  /**
   * Sign a DPoP proof with this page's key. The key cannot be exported, but script running in the
   * page can use it: that is what an XSS attacker could do, and what a thief elsewhere cannot.
   */
  readonly proofWithPageKey?: boolean;
  /** Attach cookies (the refresh cookie goes only to `refresh`). Default: omit. */
  readonly cookies?: boolean;
}

let pageSigner: Promise<DpopSigner | null> | null = null;

/** The SDK's own key, from IndexedDB where the browser entry keeps it; null when there is none yet. */
function signer(): Promise<DpopSigner | null> {
  pageSigner ??= createIndexedDbDpopKeyStore()
    .get()
    .then((pair) => (pair ? createDpopSigner(pair) : null));
  pageSigner.then((s) => {
    if (!s) pageSigner = null;
  });
  return pageSigner;
}

export async function rawGraphql(request: RawRequest): Promise<RawAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (request.token) headers.authorization = `${request.token.scheme} ${request.token.value}`;
  if (request.proofWithPageKey) {
    const key = await signer();
    if (key) {
      headers.dpop = await key.sign({
        htm: "POST",
        htu: request.endpoint,
        iat: Math.floor(Date.now() / 1000),
        accessToken: request.token?.value,
      });
    }
  }
  const response = await fetch(request.endpoint, {
    method: "POST",
    headers,
    credentials: request.cookies ? "include" : "omit",
    body: JSON.stringify({ query: request.query, variables: request.variables ?? {} }),
  });
  let body: { data?: Record<string, unknown> | null; errors?: RawError[] } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON: shown as the status alone.
  }
  const errors = (body.errors ?? []).map((e) => ({
    message: e.message,
    ...(e.path ? { path: e.path } : {}),
    code: e.extensions?.code ?? "UNKNOWN",
    ...(e.extensions?.reason ? { reason: e.extensions.reason } : {}),
  }));
  const first = errors[0];
  return {
    status: response.status,
    refusal: first ? `${first.code}${first.reason ? `/${first.reason}` : ""}` : null,
    errors,
    data: body.data ?? null,
    wwwAuthenticate: response.headers.get("www-authenticate"),
  };
}

interface RawError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; reason?: string };
}

/** The JSON parts of a JWT (header and claims), decoded for display; the signature is left out. */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header = "", claims = ""] = token.split(".");
  const part = (segment: string) => {
    const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  };
  return { header: part(header), claims: part(claims) };
}
