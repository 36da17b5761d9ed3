// Registry scenarios for issue 6: `{ me { id } }` and `{ __typename }` with a DPoP-bound token and a
// fresh proof on every request, to set beside me-token and ping-token (Bearer) in the same run.
// Proofs are signed before each slice starts (signing is the client's cost, not the server's); the
// pool is sized from the best rate seen so far, and topped up synchronously only if it runs dry.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { BENCH_PASSWORD, gql, registerUser } from "./harness/graphql-client.js";
import type { LoadDriver } from "./harness/load-driver.js";
import type { PreparedScenario, Scenario, ScenarioContext } from "./harness/scenario.js";

/** autocannon's per-request hook (bench/types/autocannon.d.ts declares only what other rows use). */
interface RequestShape {
  headers?: Record<string, string>;
  [key: string]: unknown;
}

const ME = "{ me { id } }";
const PING = "{ __typename }";
const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password, refreshTokenDelivery: BODY }) { accessToken tokenType user { id } }
}`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An Ed25519 DPoP key that signs proofs synchronously (node:crypto), so a pool refills without awaits. */
function proofSigner(htu: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const { kty, crv, x } = publicKey.export({ format: "jwk" });
  const header = b64({ typ: "dpop+jwt", alg: "EdDSA", jwk: { kty, crv, x } });
  const key: KeyObject = privateKey;
  return (ath?: string): string => {
    const claims = {
      jti: randomBytes(16).toString("base64url"),
      htm: "POST",
      htu,
      iat: Math.floor(Date.now() / 1000),
      ...(ath === undefined ? {} : { ath }),
    };
    const input = `${header}.${b64(claims)}`;
    return `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
  };
}

/** base64url(SHA-256(access token)): the proof's `ath` (RFC 9449 §4.2). */
function athOf(accessToken: string): string {
  return createHash("sha256").update(accessToken).digest("base64url");
}

/** autocannon with a fresh proof per request, from a pool signed before the slice's clock starts. */
function dpopLoad(options: {
  url: string;
  connections: number;
  query: string;
  accessToken: string;
  proof: (ath?: string) => string;
  expectBody: (body: string) => boolean;
}): LoadDriver {
  const ath = athOf(options.accessToken);
  let bestRate = 2000;
  return {
    async run(seconds) {
      const pool: string[] = [];
      const wanted = Math.ceil(bestRate * seconds * 2) + 200;
      for (let i = 0; i < wanted; i++) pool.push(options.proof(ath));
      const latencies: number[] = [];
      const started = performance.now();
      const load = {
        url: options.url,
        method: "POST" as const,
        headers: { "content-type": "application/json", authorization: `DPoP ${options.accessToken}` },
        body: JSON.stringify({ query: options.query }),
        connections: options.connections,
        pipelining: 1,
        timeout: 10,
        duration: seconds,
        verifyBody: options.expectBody,
        requests: [
          {
            setupRequest: (request: RequestShape): RequestShape => ({
              ...request,
              headers: { ...request.headers, dpop: pool.pop() ?? options.proof(ath) },
            }),
          },
        ],
      };
      const instance = autocannon(load);
      instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
      });
      const result = await instance;
      const wall = (performance.now() - started) / 1000;
      const bad2xx = Math.max(0, result.mismatches - result.non2xx);
      const ok = result["2xx"] - bad2xx;
      bestRate = Math.max(bestRate, ok / wall);
      return {
        ok,
        latenciesMs: latencies,
        errors: result.errors + bad2xx,
        non2xx: result.non2xx,
        seconds: wall,
      };
    },
  };
}

/** Registers a user, logs in with a proof (bound token), and checks one bound `{ me }`. */
async function boundUser(context: ScenarioContext) {
  const url = context.servers[0]!.graphqlUrl;
  const proof = proofSigner(url);
  const user = await registerUser(url);
  const login = await gql<{ login: { accessToken: string; tokenType: string; user: { id: string } } }>(
    url,
    LOGIN,
    { variables: { email: user.email, password: BENCH_PASSWORD }, headers: { dpop: proof() } },
  );
  const bound = login.data?.login;
  if (bound?.tokenType !== "DPoP") throw new Error(`bound login: ${JSON.stringify(login.errors)}`);
  const check = await gql<{ me: { id: string } | null }>(url, ME, {
    headers: { authorization: `DPoP ${bound.accessToken}`, dpop: proof(athOf(bound.accessToken)) },
  });
  if (check.data?.me?.id !== user.userId) throw new Error(`bound me: ${JSON.stringify(check)}`);
  // A Bearer request with the bound token must be refused, or the row would measure the wrong path.
  const bearer = await gql(url, ME, { headers: { authorization: `Bearer ${bound.accessToken}` } });
  if (bearer.status !== 401) throw new Error(`bound token as Bearer answered ${bearer.status}`);
  return { url, proof, accessToken: bound.accessToken, userId: user.userId };
}

function prepare(query: string, expected: (userId: string) => (body: string) => boolean) {
  return async (context: ScenarioContext): Promise<PreparedScenario> => {
    const { url, proof, accessToken, userId } = await boundUser(context);
    return {
      driver: dpopLoad({
        url,
        connections: context.options.connections,
        query,
        accessToken,
        proof,
        expectBody: expected(userId),
      }),
      note: "EdDSA proof per request, signed before each slice",
    };
  };
}

const dataOnly = (prefix: string, mustInclude: string) => (body: string) =>
  body.startsWith(prefix) && !body.includes('"errors"') && body.includes(mustInclude);

export const dpopScenarios: readonly Scenario[] = [
  {
    name: "me-dpop",
    issue: 6,
    summary:
      "`{ me { id } }` with a DPoP-bound token and a fresh EdDSA proof per request (vs me-token, Bearer)",
    compareWith: "me-token",
    prepare: prepare(ME, (userId) => dataOnly('{"data":{"me":{', `"id":"${userId}"`)),
  },
  {
    name: "ping-dpop",
    issue: 6,
    summary:
      "`{ __typename }` with a DPoP-bound token and a fresh proof: authentication alone (vs ping-token)",
    compareWith: "ping-token",
    prepare: prepare(PING, () => dataOnly('{"data":{"__typename":"Query"}', "")),
  },
];
