// Server-provided nonces (RFC 9449 §8, §9) through the server, with DPOP_NONCE=true: a proof without
// the current nonce is answered 401 use_dpop_nonce with a DPoP-Nonce header, and the retry that
// carries it is accepted. Nonces are stateless: any instance with the same secret accepts them.
import { describe, expect, it } from "vitest";
import { DpopNonces } from "../../src/auth/dpop/index.js";
import type { Database } from "../../src/db/database.js";
import {
  errorOf,
  type GraphQLResponse,
  startTestServer,
  type TestServer,
  useTestServer,
} from "../support/test-server.js";
import { createAccount, DPOP_TEST_ENV, dpopClient, expectRefused, ME } from "./dpop-client.js";

const SECRET = "nonce-secret-for-the-dpop-server-tests!";
const NONCE_ENV = { DPOP_NONCE: "true", DPOP_NONCE_SECRET: SECRET };

const t = useTestServer({ ...DPOP_TEST_ENV, ...NONCE_ENV });

function nonceOf(res: GraphQLResponse): string {
  const value = res.headers["dpop-nonce"];
  expect(value).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
  return value as string;
}

/** A bound login that goes through the nonce dance: returns the client, its tokens and the nonce. */
async function boundLoginWithNonce(server: TestServer = t) {
  const client = await dpopClient(server);
  const email = await createAccount(server);
  const first = await client.login(email);
  expectRefused(first, "use_dpop_nonce", "use_dpop_nonce");
  const nonce = nonceOf(first);
  const retry = await client.login(email, { nonce });
  expect(errorOf(retry)).toBeUndefined();
  return { client, email, nonce, payload: retry.body.data!.login };
}

describe("DPOP_NONCE=true", () => {
  it("answers a login proof without a nonce with 401 use_dpop_nonce and a DPoP-Nonce header; the retry with it binds", async () => {
    const { client, payload } = await boundLoginWithNonce();
    expect(payload.tokenType).toBe("DPoP");
    expect(
      (await client.me(payload.accessToken, { nonce: nonceOf(await t.gql(ME)) })).body.data?.me?.id,
    ).toBe(payload.user.id);
  });

  it("asks for the nonce on a bound request whose proof has none, and accepts the retry", async () => {
    const { client, payload } = await boundLoginWithNonce();
    const first = await client.me(payload.accessToken);
    expectRefused(first, "use_dpop_nonce", "use_dpop_nonce");
    const retry = await client.me(payload.accessToken, { nonce: nonceOf(first) });
    expect(retry.status).toBe(200);
    expect(retry.body.data?.me?.id).toBe(payload.user.id);
  });

  it("sends the current nonce on every response, successful or anonymous (§8.2)", async () => {
    const anonymous = await t.gql(ME);
    expect(anonymous.status).toBe(200);
    const { client, payload, nonce } = await boundLoginWithNonce();
    const ok = await client.me(payload.accessToken, { nonce });
    expect(ok.status).toBe(200);
    expect(nonceOf(ok)).toBe(nonceOf(anonymous));
  });

  it("asks again when the nonce is stale (two steps old), and accepts the new one", async () => {
    const { client, payload, nonce } = await boundLoginWithNonce();
    t.clock.advanceSeconds(120);
    const stale = await client.me(payload.accessToken, { nonce });
    expectRefused(stale, "use_dpop_nonce", "use_dpop_nonce");
    const fresh = nonceOf(stale);
    expect(fresh).not.toBe(nonce);
    expect((await client.me(payload.accessToken, { nonce: fresh })).status).toBe(200);
  });

  it("accepts the previous step's nonce (it lives one to two steps)", async () => {
    const { client, payload, nonce } = await boundLoginWithNonce();
    t.clock.advanceSeconds(60);
    expect((await client.me(payload.accessToken, { nonce })).status).toBe(200);
  });

  it("asks again for a nonce made with another secret", async () => {
    const { client, payload } = await boundLoginWithNonce();
    const forged = new DpopNonces("another-secret-of-at-least-32-bytes!!!", t.clock).current();
    const res = await client.me(payload.accessToken, { nonce: forged });
    expectRefused(res, "use_dpop_nonce", "use_dpop_nonce");
    expect(nonceOf(res)).not.toBe(forged);
  });

  it("asks again for a nonce that is not a string", async () => {
    const { client, payload } = await boundLoginWithNonce();
    const res = await client.me(payload.accessToken, { overridePayload: { nonce: 42 } });
    expectRefused(res, "use_dpop_nonce", "use_dpop_nonce");
  });

  it("refuses a bad proof as invalid_dpop_proof even when it lacks a nonce (no nonce offered to forgers)", async () => {
    const { client, payload } = await boundLoginWithNonce();
    const thief = await dpopClient(t);
    const res = await client.me(payload.accessToken, { signWith: thief.key });
    expectRefused(res, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("asks for a nonce on a refresh proof too, and the retry rotates", async () => {
    const { client, payload } = await boundLoginWithNonce();
    const first = await client.refresh(payload.refreshToken!);
    expectRefused(first, "use_dpop_nonce", "use_dpop_nonce");
    const retry = await client.refresh(payload.refreshToken!, { nonce: nonceOf(first) });
    expect(errorOf(retry)).toBeUndefined();
    expect(retry.body.data!.refresh.tokenType).toBe("DPoP");
  });

  it("lets a second instance with the same secret accept the first instance's nonce (stateless)", async () => {
    // Same database (so the same signing keys) and clock; its own memory and its own nonce cache.
    const database = t.database as Database & { url: string };
    const other = await startTestServer({ ...DPOP_TEST_ENV, ...NONCE_ENV }, { clock: t.clock, database });
    try {
      const { client, payload, nonce } = await boundLoginWithNonce();
      const res = await other.gql(ME, {
        authorization: `DPoP ${payload.accessToken}`,
        headers: await client.headers(payload.accessToken, { nonce }),
      });
      expect(res.status).toBe(200);
      expect((res.body.data as { me: { id: string } }).me.id).toBe(payload.user.id);
    } finally {
      await other.close();
    }
  });
});
