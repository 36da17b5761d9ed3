import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  jwtVerify,
} from "jose";
import { describe, expect, it } from "vitest";
import { accessTokenHash, createDpopSigner, htuOf } from "../../../src/client/dpop-proof.js";
import {
  createMemoryDpopKeyStore,
  generateDpopKeyPair,
  HoldfastClientError,
  MeDocument,
} from "../../../src/client/index.js";
import { ada, clientHarness, LOGIN_RETRIED_THEN_ME } from "./support/client-harness.js";

async function sha256(text: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
  );
}

describe("DPoP proofs (RFC 9449 §4)", () => {
  it("every proof verifies with its header jwk and carries htm, htu without query, iat, unique jti, and ath", async () => {
    const { client, server, time } = clientHarness({ endpoint: "https://api.test/graphql?debug=1#top" });
    await client.login(ada);
    await client.request(MeDocument);
    time.advance(250_000);
    await client.request(MeDocument);

    expect(server.calls.map((c) => c.operationName)).toEqual(["Login", "Me", "Refresh", "Me"]);
    for (const call of server.calls) {
      expect(call.proofError).toBeNull();
      expect(call.proof?.header).toMatchObject({
        typ: "dpop+jwt",
        alg: "ES256",
        jwk: { kty: "EC", crv: "P-256" },
      });
      expect(call.proof?.header.jwk).not.toHaveProperty("d");
      expect(call.proof?.payload.htm).toBe("POST");
      expect(call.proof?.payload.htu).toBe("https://api.test/graphql");
    }
    expect(new Set(server.calls.map((c) => c.proof?.jkt)).size).toBe(1);
    expect(new Set(server.calls.map((c) => c.proof?.payload.jti)).size).toBe(4);
    expect(server.calls[0]?.proof?.payload.iat).toBe(Math.floor(Date.UTC(2030, 0, 1) / 1000));
    expect(server.calls[3]?.proof?.payload.iat).toBe(Math.floor(Date.UTC(2030, 0, 1) / 1000) + 250);

    // login and refresh bind the new tokens: a proof without ath and without Authorization.
    for (const call of [server.calls[0], server.calls[2]]) {
      expect(call?.authorization).toBeNull();
      expect(call?.proof?.payload.ath).toBeUndefined();
    }
    // Calls with a token: `DPoP` scheme and ath = base64url(SHA-256(token)).
    expect(server.calls[1]?.authorization).toBe(`DPoP ${server.issuedAccessTokens[0]}`);
    expect(server.calls[1]?.proof?.payload.ath).toBe(await sha256(server.issuedAccessTokens[0]!));
    expect(server.calls[3]?.proof?.payload.ath).toBe(await sha256(server.issuedAccessTokens[1]!));
  });

  it("a proof signed by the client verifies independently with jose and its thumbprint", async () => {
    const keyPair = await generateDpopKeyPair();
    const signer = await createDpopSigner(keyPair);
    const proof = await signer.sign({
      htm: "POST",
      htu: "https://api.test/graphql?x=1#y",
      iat: 1_900_000_000,
      accessToken: "token-value",
      nonce: "n-1",
    });
    const header = decodeProtectedHeader(proof);
    const { payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, "ES256"), {
      typ: "dpop+jwt",
      currentDate: new Date(1_900_000_000_000),
    });
    expect(payload).toMatchObject({
      htm: "POST",
      htu: "https://api.test/graphql",
      iat: 1_900_000_000,
      nonce: "n-1",
    });
    expect(payload.ath).toBe(await sha256("token-value"));
    expect(await accessTokenHash("token-value")).toBe(payload.ath);
    const publicJwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
    expect(await calculateJwkThumbprint(header.jwk as JWK)).toBe(
      await calculateJwkThumbprint(publicJwk as JWK),
    );
  });

  it("a tampered proof does not verify", async () => {
    const signer = await createDpopSigner(await generateDpopKeyPair());
    const proof = await signer.sign({ htm: "POST", htu: "https://api.test/graphql", iat: 1_900_000_000 });
    const [h, p, s] = proof.split(".");
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...decodeJwt(proof), htm: "GET" }))}.${s}`;
    expect(p).not.toBe(forged.split(".")[1]);
    const key = await importJWK(decodeProtectedHeader(proof).jwk as JWK, "ES256");
    await expect(jwtVerify(forged, key, { currentDate: new Date(1_900_000_000_000) })).rejects.toMatchObject({
      code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    });
  });

  it("EdDSA keys sign proofs too", async () => {
    const { client, server } = clientHarness({ dpopAlgorithm: "EdDSA" });
    await client.login(ada);
    await client.request(MeDocument);
    expect(server.calls.every((c) => c.proofError === null && c.proof?.header.alg === "EdDSA")).toBe(true);
    expect(server.calls[0]?.proof?.header.jwk).toMatchObject({ kty: "OKP", crv: "Ed25519" });
  });

  it("htuOf strips query and fragment", () => {
    expect(htuOf("https://api.test:8443/graphql?a=1#b")).toBe("https://api.test:8443/graphql");
  });

  it("without DPoP, tokens are Bearer and no proof is sent", async () => {
    const { client, server } = clientHarness({ dpop: false });
    await client.login(ada);
    await client.request(MeDocument);
    expect(server.calls.every((c) => c.proof === null)).toBe(true);
    expect(server.calls[1]?.authorization).toBe(`Bearer ${server.issuedAccessTokens[0]}`);
  });
});

describe("DPoP nonce (RFC 9449 §8)", () => {
  it("on use_dpop_nonce, retries once with the nonce from the DPoP-Nonce header, then keeps using it", async () => {
    const { client, server } = clientHarness();
    server.requiredNonce = "nonce-1";
    await client.login(ada);
    await client.request(MeDocument);
    expect(server.calls.map((c) => [c.operationName, c.status])).toEqual(LOGIN_RETRIED_THEN_ME);
    expect(server.calls[0]?.proof?.payload.nonce).toBeUndefined();
    expect(server.calls[1]?.proof?.payload.nonce).toBe("nonce-1");
    expect(server.calls[2]?.proof?.payload.nonce).toBe("nonce-1");
  });

  it("a second nonce demand after the retry is reported, not retried again", async () => {
    const { client, server } = clientHarness();
    server.rotateNonceOnEveryCall = true;
    const error = await client.login(ada).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HoldfastClientError);
    expect(error).toMatchObject({ code: "UNAUTHENTICATED", reason: "use_dpop_nonce" });
    expect(server.count("Login")).toBe(2);
  });

  it("a nonce demand on an authenticated call is retried once, not turned into a refresh", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    server.requiredNonce = "nonce-2";
    await client.request(MeDocument);
    expect(server.calls.map((c) => c.operationName)).toEqual(["Login", "Me", "Me"]);
    expect(server.calls[2]?.proof?.payload.nonce).toBe("nonce-2");
  });

  it("records a DPoP-Nonce from any response and uses it in the next proof", async () => {
    const { client, server } = clientHarness();
    server.advertisedNonce = "nonce-3";
    await client.login(ada);
    server.advertisedNonce = null;
    await client.request(MeDocument);
    expect(server.calls[0]?.proof?.payload.nonce).toBeUndefined();
    expect(server.calls[1]?.proof?.payload.nonce).toBe("nonce-3");
  });
});

describe("the DPoP private key", () => {
  it("is non-extractable: exporting it is refused in every format", async () => {
    const keyStore = createMemoryDpopKeyStore();
    const { client } = clientHarness({ keyStore });
    await client.login(ada);
    const pair = await keyStore.get();
    expect(pair?.privateKey.extractable).toBe(false);
    for (const format of ["jwk", "pkcs8"] as const) {
      await expect(crypto.subtle.exportKey(format, pair!.privateKey)).rejects.toThrow();
    }
  });

  it("is created once and shared by clients on the same key store", async () => {
    const keyStore = createMemoryDpopKeyStore();
    const a = clientHarness({ keyStore });
    const b = clientHarness({ keyStore, time: a.time, fakeServer: a.server });
    await a.client.login(ada);
    await b.client.login(ada);
    expect(a.server.calls[0]?.proof?.jkt).toBe(a.server.calls[1]?.proof?.jkt);
  });

  it("falls back to a key in memory when the key store fails", async () => {
    const failing = {
      get: () => Promise.reject(new Error("IndexedDB unavailable")),
      setIfAbsent: () => Promise.reject(new Error("IndexedDB unavailable")),
      clear: () => Promise.resolve(),
    };
    const { client, server } = clientHarness({ keyStore: failing });
    await client.login(ada);
    await client.request(MeDocument);
    expect(server.calls.every((c) => c.proofError === null && c.proof !== null)).toBe(true);
  });
});
