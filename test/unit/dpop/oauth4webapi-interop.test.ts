// Proofs from an independent, widely used DPoP client (panva's oauth4webapi) must pass our verifier.
// The client's fetch is replaced, so nothing leaves the process: the "server" below is verifyDpopProof.
import * as oauth from "oauth4webapi";
import { beforeEach, describe, expect, it } from "vitest";
import type { VerifiedDpopProof } from "../../../src/auth/dpop/index.js";
import { DpopNonces, MemoryReplayStore, verifyDpopProof } from "../../../src/auth/dpop/index.js";
import { DpopNonceRequiredError } from "../../../src/errors/app-error.js";
import { FakeClock } from "../../support/fake-clock.js";

const ENDPOINT = "https://api.example.com/graphql";
const ACCESS_TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";
const SECRET = "a-nonce-secret-of-at-least-32-bytes!!";
const remapEd25519: oauth.ModifyAssertionOptions = {
  [oauth.modifyAssertion]: (header) => {
    if (header.alg === "Ed25519") header.alg = "EdDSA";
  },
};

describe("interop with oauth4webapi DPoP proofs", () => {
  let clock: FakeClock;
  let store: MemoryReplayStore;

  beforeEach(() => {
    // oauth4webapi stamps iat from the system clock, so the fake clock starts there.
    clock = new FakeClock(new Date());
    store = new MemoryReplayStore(clock);
  });

  /** A fetch that hands the request to verifyDpopProof and answers as an RFC 9449 resource server would. */
  function resourceServer(nonces: DpopNonces | null, verified: VerifiedDpopProof[], expectedJkt?: string) {
    return async (url: string, init: oauth.CustomFetchOptions<string, unknown>) => {
      expect(url).toBe(ENDPOINT);
      const headers = new Headers(init.headers);
      const authorization = headers.get("authorization") ?? "";
      const accessToken = authorization.replace(/^DPoP /, "");
      expect(authorization).toBe(`DPoP ${ACCESS_TOKEN}`);
      try {
        const result = await verifyDpopProof(
          {
            headerValues: headers.has("dpop") ? [headers.get("dpop")!] : [],
            method: init.method,
            url: ENDPOINT,
            accessToken,
            ...(expectedJkt === undefined ? {} : { expectedJkt }),
          },
          { clock, replayStore: store, nonces },
        );
        verified.push(result);
        return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
      } catch (error) {
        if (error instanceof DpopNonceRequiredError) {
          return new Response(null, {
            status: 401,
            headers: { "www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": error.nonce },
          });
        }
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'DPoP error="invalid_dpop_proof"' },
        });
      }
    };
  }

  async function call(dpop: oauth.DPoPHandle, fetch: ReturnType<typeof resourceServer>, method = "POST") {
    return oauth.protectedResourceRequest(
      ACCESS_TOKEN,
      method,
      new URL(ENDPOINT),
      undefined,
      method === "GET" ? null : "{}",
      {
        DPoP: dpop,
        [oauth.customFetch]: fetch,
      },
    );
  }

  it.each([
    ["ES256", "ES256", undefined],
    ["Ed25519 (alg Ed25519)", "Ed25519", undefined],
    ["Ed25519 (alg EdDSA)", "Ed25519", remapEd25519],
  ] as const)(
    "accepts a %s proof bound to the access token (ath) and to its jkt",
    async (_, alg, options) => {
      const keyPair = await oauth.generateKeyPair(alg);
      const dpop = oauth.DPoP({}, keyPair, options);
      const verified: VerifiedDpopProof[] = [];
      const jkt = await dpop.calculateThumbprint();
      const response = await call(dpop, resourceServer(null, verified, jkt));
      expect(response.status).toBe(200);
      expect(verified).toEqual([{ jkt, jti: expect.any(String) }]);
    },
  );

  it("accepts the retry with the server nonce after a use_dpop_nonce challenge", async () => {
    const nonces = new DpopNonces(SECRET, clock);
    const keyPair = await oauth.generateKeyPair("ES256");
    const dpop = oauth.DPoP({}, keyPair);
    const verified: VerifiedDpopProof[] = [];
    const fetch = resourceServer(nonces, verified);

    const first = await call(dpop, fetch).then(
      () => null,
      (e: unknown) => e,
    );
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const retried = await call(dpop, fetch);
    expect(retried.status).toBe(200);
    // The client keeps using the cached nonce on later requests, and it stays valid for the next step.
    clock.advanceSeconds(60);
    expect((await call(dpop, fetch, "GET")).status).toBe(200);
    expect(verified).toHaveLength(2);
  });
});
