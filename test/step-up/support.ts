// Step-up and passkey tests go through a real socket: what an attacker holding a copied token sees.
import { decodeJwt } from "jose";
import { startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";

export interface HttpResult<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface StepUpWorld {
  readonly t: TestServer;
  readonly base: string;
  post<TData = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> },
  ): Promise<HttpResult<TData>>;
  close(): Promise<void>;
}

export async function startStepUpWorld(env: Record<string, string> = {}): Promise<StepUpWorld> {
  const t = await startTestServer({ RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "100000", ...env });
  const base = await t.listen();
  return {
    t,
    base,
    async post(query, options = {}) {
      const response = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables: options.variables ?? {} }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    close: () => t.close(),
  };
}

export interface Account {
  readonly email: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
  readonly userId: string;
}

let counter = 0;

/** Registers over HTTP (BODY delivery): a fresh account with a fresh password authentication. */
export async function register(w: StepUpWorld, displayName = "Victim"): Promise<Account> {
  counter += 1;
  const email = `stepup${counter}-${process.pid}-${Date.now()}@example.com`;
  const res = await w.post<{
    register: { accessToken: string; refreshToken: string; session: { id: string }; user: { id: string } };
  }>(
    `mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken session { id } user { id } } }`,
    { variables: { i: { email, password: TEST_PASSWORD, displayName, refreshTokenDelivery: "BODY" } } },
  );
  const payload = res.body.data?.register;
  if (!payload) throw new Error(`register failed: ${JSON.stringify(res.body.errors)}`);
  return {
    email,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    sessionId: payload.session.id,
    userId: payload.user.id,
  };
}

/** The first error's code and reason. */
export function refusal(res: HttpResult): { code: unknown; reason: unknown } | undefined {
  const e = res.body.errors?.[0];
  return e ? { code: e.extensions?.code, reason: e.extensions?.reason } : undefined;
}

export function claimsOf(token: string) {
  return decodeJwt(token) as { auth_time?: number; acr?: string; amr?: string[]; sid: string; scope: string };
}
