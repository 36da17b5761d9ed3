// Helpers for the OAuth endpoint tests: a resource server's client credentials and form posts.
import type { TestServer } from "../support/test-server.js";

export const RS_CLIENT = "notes-reader";
export const RS_SECRET = "notes-reader-secret-0123456789";
export const OAUTH_TEST_ENV: Record<string, string> = {
  INTROSPECTION_CLIENTS: `${RS_CLIENT}:${RS_SECRET},other-service:sha256:${"ab".repeat(32)}`,
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "1000000",
};

export function basic(id: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString("base64")}`;
}

export interface FormResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Record<string, unknown> | null;
}

/** A form POST through the whole HTTP stack, as RFC 7662 §2.1 / RFC 7009 §2.1 send them. */
export async function postForm(
  t: TestServer,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<FormResponse> {
  const response = await t.server.app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    payload: new URLSearchParams(form).toString(),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body ? (JSON.parse(response.body) as Record<string, unknown>) : null,
  };
}

export function introspect(
  t: TestServer,
  token: string,
  options: { authorization?: string | null; hint?: string } = {},
): Promise<FormResponse> {
  const authorization =
    options.authorization === undefined ? basic(RS_CLIENT, RS_SECRET) : options.authorization;
  return postForm(
    t,
    "/oauth/introspect",
    { token, ...(options.hint ? { token_type_hint: options.hint } : {}) },
    authorization ? { authorization } : {},
  );
}
