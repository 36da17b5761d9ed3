// A DPoP client for server-level tests: one key pair, proofs stamped with the test server's fake clock
// and the configured public endpoint, and the account flows (register, login, refresh, me) sent with them.
import { decodeJwt } from "jose";
import { expect } from "vitest";
import {
  createDpopKey,
  createDpopProof,
  type DpopProofOptions,
  type DpopTestAlg,
  type DpopTestKey,
} from "../support/dpop-proof.js";
import {
  type AuthPayload,
  type GraphQLResponse,
  LOGIN,
  REFRESH,
  REGISTER,
  TEST_PASSWORD,
  type TestServer,
} from "../support/test-server.js";

/** PUBLIC_URL in TEST_ENV + the GraphQL path: the only htu the test server accepts. */
export const ENDPOINT = "http://localhost:4000/graphql";
export const ME = "{ me { id } }";
export const DPOP_ALGS = 'algs="EdDSA ES256"';

/**
 * These tests register and log in many accounts from one address; per-IP limits are tested elsewhere.
 * (Unknown variables are ignored by the config schema, so this is harmless where they do not exist.)
 */
export const DPOP_TEST_ENV: Record<string, string> = {
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "1000000",
};

/** A login whose refresh token goes to the HttpOnly cookie. */
export const LOGIN_COOKIE = `mutation LoginCookie($email: String!) {
  login(input: { email: $email, password: "${TEST_PASSWORD}", refreshTokenDelivery: COOKIE }) { accessToken tokenType }
}`;

let counter = 0;

/** A fresh address for each account, so tests sharing a database never collide. */
export function uniqueEmail(): string {
  counter += 1;
  return `dpop${counter}-${process.pid}-${Date.now()}@example.com`;
}

export type ProofOverrides = Omit<DpopProofOptions, "htm" | "htu" | "iat"> &
  Partial<Pick<DpopProofOptions, "htm" | "htu" | "iat">>;

export interface DpopClient {
  readonly key: DpopTestKey;
  /** A proof for POST /graphql at the server's current (fake) time, with any override. */
  proof(options?: ProofOverrides): Promise<string>;
  /** Headers carrying one fresh proof (with `ath` when a token is given). */
  headers(accessToken?: string, options?: ProofOverrides): Promise<Record<string, string>>;
  register(email?: string): Promise<GraphQLResponse<{ register: AuthPayload }>>;
  login(email: string, options?: ProofOverrides): Promise<GraphQLResponse<{ login: AuthPayload }>>;
  refresh(refreshToken: string, options?: ProofOverrides): Promise<GraphQLResponse<{ refresh: AuthPayload }>>;
  /** `{ me { id } }` with `Authorization: DPoP <token>` and a fresh proof bound to the token. */
  me(accessToken: string, options?: ProofOverrides): Promise<GraphQLResponse<{ me: { id: string } | null }>>;
}

export async function dpopClient(t: TestServer, alg: DpopTestAlg = "EdDSA"): Promise<DpopClient> {
  const key = await createDpopKey(alg);
  const proof = (options: ProofOverrides = {}) =>
    createDpopProof(key, { htm: "POST", htu: ENDPOINT, iat: t.clock.now(), ...options });
  const headers = async (accessToken?: string, options: ProofOverrides = {}) => ({
    dpop: await proof({ ...(accessToken === undefined ? {} : { accessToken }), ...options }),
  });
  return {
    key,
    proof,
    headers,
    async register(email = uniqueEmail()) {
      return t.gql(REGISTER, {
        variables: {
          input: { email, password: TEST_PASSWORD, displayName: "DPoP user", refreshTokenDelivery: "BODY" },
        },
        headers: await headers(),
      });
    },
    async login(email, options = {}) {
      return t.gql(LOGIN, {
        variables: { input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
        headers: await headers(undefined, options),
      });
    },
    async refresh(refreshToken, options = {}) {
      return t.gql(REFRESH, {
        variables: { token: refreshToken },
        headers: await headers(undefined, options),
      });
    },
    async me(accessToken, options = {}) {
      return t.gql(ME, {
        authorization: `DPoP ${accessToken}`,
        headers: await headers(accessToken, options),
      });
    },
  };
}

/** Registers an account without a proof (unbound) and returns its email. */
export async function createAccount(t: TestServer): Promise<string> {
  const email = uniqueEmail();
  const res = await t.gql<{ register: AuthPayload }>(REGISTER, {
    variables: {
      input: { email, password: TEST_PASSWORD, displayName: "DPoP user", refreshTokenDelivery: "BODY" },
    },
  });
  if (!res.body.data?.register) throw new Error(`register failed: ${JSON.stringify(res.body.errors)}`);
  return email;
}

/** A client and a DPoP-bound login (BODY delivery) made with its key. */
export async function boundLogin(t: TestServer, client?: DpopClient) {
  const c = client ?? (await dpopClient(t));
  const email = await createAccount(t);
  const res = await c.login(email);
  const payload = res.body.data?.login;
  if (!payload) throw new Error(`bound login failed: ${JSON.stringify(res.body.errors)}`);
  return { client: c, email, payload };
}

/** The `cnf.jkt` an access token carries (decoded, not verified: the server verified it). */
export function cnfJkt(accessToken: string): unknown {
  return (decodeJwt(accessToken).cnf as { jkt?: unknown } | undefined)?.jkt;
}

/** A refusal as RFC 9449 §7.1 describes it: 401, a reason, and a DPoP challenge with the given error. */
export function expectRefused(
  res: GraphQLResponse,
  reason: string,
  error: "invalid_token" | "invalid_dpop_proof" | "use_dpop_nonce",
): void {
  expect(res.status).toBe(401);
  expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason });
  expect(res.body.data ?? null).toBeNull();
  const challenge = String(res.headers["www-authenticate"] ?? "");
  expect(challenge).toMatch(new RegExp(`^DPoP error="${error}"`));
  expect(challenge).toContain(DPOP_ALGS);
}
