import type { JWK } from "jose";
import { importJWK } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import type { ReplayStore, VerifyDpopProofDeps, VerifyDpopProofInput } from "../../../src/auth/dpop/index.js";
import { MAX_DPOP_PROOF_LENGTH, MemoryReplayStore, verifyDpopProof } from "../../../src/auth/dpop/index.js";
import type { DpopProofOptions, DpopTestKey } from "../../support/dpop-proof.js";
import { athFor, createDpopKey, createDpopProof } from "../../support/dpop-proof.js";
import { FakeClock } from "../../support/fake-clock.js";
import { expectRefused } from "./expect-dpop.js";

const ENDPOINT = "https://api.example.com/graphql";
const ACCESS_TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";

let clock: FakeClock;
let store: MemoryReplayStore;
let deps: VerifyDpopProofDeps;
let key: DpopTestKey;

beforeEach(async () => {
  clock = new FakeClock("2030-01-01T00:00:00.000Z");
  store = new MemoryReplayStore(clock);
  deps = { clock, replayStore: store, iatWindowSeconds: 60 };
  key = await createDpopKey();
});

function proof(options: Partial<DpopProofOptions> = {}, signer: DpopTestKey = key): Promise<string> {
  return createDpopProof(signer, { htm: "POST", htu: ENDPOINT, iat: clock.now(), ...options });
}

function verify(headerValues: readonly string[], input: Partial<VerifyDpopProofInput> = {}, d = deps) {
  return verifyDpopProof({ headerValues, method: "POST", url: ENDPOINT, ...input }, d);
}

function segments(jws: string): [string, string, string] {
  return jws.split(".") as [string, string, string];
}

describe("verifyDpopProof accepts", () => {
  it("a well-formed EdDSA proof and returns its key thumbprint and jti", async () => {
    const jws = await proof({ jti: "jti-accepted-eddsa" });
    await expect(verify([jws])).resolves.toEqual({ jkt: key.jkt, jti: "jti-accepted-eddsa" });
  });

  it("an ES256 proof", async () => {
    const es = await createDpopKey("ES256");
    await expect(verify([await proof({}, es)])).resolves.toMatchObject({ jkt: es.jkt });
  });

  it("the fully-specified Ed25519 alg name (RFC 9864) for the same key type", async () => {
    const ed = await createDpopKey("Ed25519");
    await expect(verify([await proof({}, ed)])).resolves.toMatchObject({ jkt: ed.jkt });
  });

  it("computes the RFC 7638 thumbprint of the RFC 8037 appendix A key as the RFC does", async () => {
    // RFC 8037 A.1 (key) and A.3 (its thumbprint): an independent check of the jkt we return.
    const x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const privateKey = (await importJWK({ kty: "OKP", crv: "Ed25519", x, d }, "EdDSA")) as CryptoKey;
    const publicJwk: JWK = { kty: "OKP", crv: "Ed25519", x };
    const rfcKey: DpopTestKey = { alg: "EdDSA", privateKey, publicKey: privateKey, publicJwk, jkt: "unused" };
    await expect(verify([await proof({}, rfcKey)])).resolves.toMatchObject({
      jkt: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    });
  });

  it("a proof whose key thumbprint equals the expected one", async () => {
    await expect(verify([await proof()], { expectedJkt: key.jkt })).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("an ath equal to base64url(SHA-256(access token))", async () => {
    const jws = await proof({ accessToken: ACCESS_TOKEN });
    await expect(verify([jws], { accessToken: ACCESS_TOKEN })).resolves.toMatchObject({ jkt: key.jkt });
  });

  // RFC 9449 §4.3 item 9: "the htu claim matches the HTTP URI value for the HTTP request in which the
  // JWT was received, ignoring any query and fragment parts". So the proof's query or fragment is
  // dropped before comparing, and the proof is accepted for the same scheme, host, port and path.
  it.each([
    ["a query", `${ENDPOINT}?operationName=Me`],
    ["a fragment", `${ENDPOINT}#section`],
    ["a query and a fragment", `${ENDPOINT}?a=1&b=2#frag`],
  ])("an htu with %s, which RFC 9449 §4.3 item 9 ignores", async (_, htu) => {
    await expect(verify([await proof({ htu })])).resolves.toMatchObject({ jkt: key.jkt });
  });

  // RFC 9449 §4.3 item 9 points to RFC 3986 §6.2.2 (syntax) and §6.2.3 (scheme-based) normalisation.
  it.each([
    ["upper-case scheme and host", "HTTPS://API.Example.COM/graphql"],
    ["the scheme's default port", "https://api.example.com:443/graphql"],
    ["a percent-encoded unreserved character", "https://api.example.com/%67raphql"],
    ["a dot segment", "https://api.example.com/x/../graphql"],
  ])("an htu that differs only by %s (RFC 3986 §6.2.2–6.2.3)", async (_, htu) => {
    await expect(verify([await proof({ htu })])).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("a configured URL with a non-default port compared with the same port", async () => {
    const url = "http://localhost:4000/graphql";
    const jws = await proof({ htu: "http://LOCALHOST:4000/graphql?x" });
    await expect(verify([jws], { url })).resolves.toMatchObject({ jkt: key.jkt });
  });
});

describe("verifyDpopProof refuses the request's DPoP header when it", () => {
  it("is missing", async () => {
    await expectRefused(verify([]), "header_count");
  });

  it("appears twice, even with two valid proofs", async () => {
    await expectRefused(verify([await proof(), await proof()]), "header_count");
  });

  it("holds two proofs in one comma-joined value", async () => {
    await expectRefused(verify([`${await proof()}, ${await proof()}`]), "compact_jws");
  });

  it("is larger than the size cap", async () => {
    const jws = await proof({ overridePayload: { pad: "a".repeat(MAX_DPOP_PROOF_LENGTH) } });
    expect(jws.length).toBeGreaterThan(MAX_DPOP_PROOF_LENGTH);
    await expectRefused(verify([jws]), "size");
  });

  it("is the JWS JSON serialisation (flattened or general)", async () => {
    const [p, payload, signature] = segments(await proof());
    const flattened = JSON.stringify({ protected: p, payload, signature });
    const general = JSON.stringify({ payload, signatures: [{ protected: p, signature }] });
    await expectRefused(verify([flattened]), "compact_jws");
    await expectRefused(verify([general]), "compact_jws");
  });

  it("is a JWE (five segments)", async () => {
    const [p, payload, signature] = segments(await proof());
    await expectRefused(verify([`${p}..${payload}.${signature}.${signature}`]), "compact_jws");
  });

  it("is empty or has empty segments", async () => {
    const [p, payload] = segments(await proof());
    await expectRefused(verify([""]), "compact_jws");
    await expectRefused(verify([`${p}.${payload}.`]), "compact_jws");
    await expectRefused(verify([`.${payload}.c2ln`]), "compact_jws");
  });

  it("has padded or non-base64url segments", async () => {
    const [p, payload, signature] = segments(await proof());
    await expectRefused(verify([`${p}=.${payload}.${signature}`]), "compact_jws");
    await expectRefused(verify([`${p}.${payload}.${signature}+/`]), "compact_jws");
  });
});

describe("verifyDpopProof refuses a proof whose header", () => {
  it("is not JSON", async () => {
    const [, payload, signature] = segments(await proof());
    const notJson = Buffer.from("{typ: dpop+jwt").toString("base64url");
    await expectRefused(verify([`${notJson}.${payload}.${signature}`]), "header");
  });

  it("is JSON but not an object", async () => {
    const [, payload, signature] = segments(await proof());
    const array = Buffer.from(JSON.stringify(["dpop+jwt"])).toString("base64url");
    await expectRefused(verify([`${array}.${payload}.${signature}`]), "header");
  });

  it.each([["JWT"], ["at+jwt"], ["DPOP+JWT"], [undefined]])("has typ %s instead of dpop+jwt", async (typ) => {
    await expectRefused(verify([await proof({ overrideHeader: { typ } })]), "typ");
  });

  it("says alg none, with an empty signature", async () => {
    await expectRefused(
      verify([await proof({ overrideHeader: { alg: "none" }, signWith: "none" })]),
      "compact_jws",
    );
  });

  it("says alg none, with a signature", async () => {
    await expectRefused(verify([await proof({ overrideHeader: { alg: "none" } })]), "alg");
  });

  it("says HS256 and is MACed with the public key bytes as the secret (alg confusion)", async () => {
    const secret = Buffer.from(String(key.publicJwk.x), "base64url");
    const jws = await proof({ overrideHeader: { alg: "HS256" }, signWith: { hmacSecret: secret } });
    await expectRefused(verify([jws]), "alg");
  });

  it("says HS256 and carries a symmetric jwk", async () => {
    const secret = Buffer.alloc(32, 7);
    const jws = await proof({
      overrideHeader: { alg: "HS256", jwk: { kty: "oct", k: secret.toString("base64url") } },
      signWith: { hmacSecret: secret },
    });
    await expectRefused(verify([jws]), "alg");
  });

  it.each([["RS256"], ["PS256"], ["ES384"], ["Ed448"], ["eddsa"]])("says alg %s", async (alg) => {
    await expectRefused(verify([await proof({ overrideHeader: { alg } })]), "alg");
  });

  it("uses an alg the deployment did not allow", async () => {
    await expectRefused(verify([await proof()], {}, { ...deps, algorithms: ["ES256"] }), "alg");
  });

  it("has no jwk, or a jwk that is not an object", async () => {
    await expectRefused(verify([await proof({ overrideHeader: { jwk: undefined } })]), "jwk");
    await expectRefused(
      verify([await proof({ overrideHeader: { jwk: JSON.stringify(key.publicJwk) } })]),
      "jwk",
    );
  });

  it("carries the private key (d) in its jwk", async () => {
    const { privateKey } = key;
    const { d } = (await crypto.subtle.exportKey("jwk", privateKey)) as JWK;
    expect(typeof d).toBe("string");
    await expectRefused(verify([await proof({ overrideHeader: { jwk: { ...key.publicJwk, d } } })]), "jwk");
  });

  it.each([["p"], ["q"], ["dp"], ["dq"], ["qi"], ["oth"], ["k"], ["priv"]])(
    "carries private member %s in its jwk",
    async (member) => {
      const jwk = { ...key.publicJwk, [member]: "AAAA" };
      await expectRefused(verify([await proof({ overrideHeader: { jwk } })]), "jwk");
    },
  );

  it("pairs an ES256 alg with an Ed25519 jwk, or EdDSA with a P-256 jwk", async () => {
    const es = await createDpopKey("ES256");
    await expectRefused(verify([await proof({ overrideHeader: { alg: "ES256" } })]), "jwk");
    await expectRefused(verify([await proof({ overrideHeader: { alg: "EdDSA" } }, es)]), "jwk");
  });

  it("has a jwk of another curve, a malformed x, or an alg member that disagrees", async () => {
    const { publicJwk } = key;
    for (const jwk of [
      { ...publicJwk, crv: "Ed448" },
      { ...publicJwk, x: "AAAA" },
      { ...publicJwk, alg: "ES256" },
      { ...publicJwk, use: "enc" },
    ]) {
      await expectRefused(verify([await proof({ overrideHeader: { jwk } })]), "jwk");
    }
  });

  it("has a P-256 jwk whose point is not on the curve", async () => {
    const es = await createDpopKey("ES256");
    const zero = Buffer.alloc(32).toString("base64url");
    const jwk = { kty: "EC", crv: "P-256", x: zero, y: zero };
    await expectRefused(verify([await proof({ overrideHeader: { jwk } }, es)]), "jwk");
  });
});

describe("verifyDpopProof refuses a proof whose signature", () => {
  it("was made by another key than the one in its jwk, also once that jwk's key is known", async () => {
    await verify([await proof()]);
    const other = await createDpopKey();
    await expectRefused(verify([await proof({ signWith: other })]), "signature");
  });

  it("was made by another key than the one in its jwk", async () => {
    const other = await createDpopKey();
    await expectRefused(verify([await proof({ signWith: other })]), "signature");
  });

  it("does not cover the claims (claims changed after signing)", async () => {
    const [p, , signature] = segments(await proof({ htm: "GET" }));
    const [, payload] = segments(await proof({ htm: "POST" }));
    await expectRefused(verify([`${p}.${payload}.${signature}`]), "signature");
  });

  it("was made for a header with another jwk (header swapped after signing)", async () => {
    const other = await createDpopKey();
    const [, payload, signature] = segments(await proof());
    const [otherHeader] = segments(await proof({}, other));
    await expectRefused(verify([`${otherHeader}.${payload}.${signature}`]), "signature");
  });

  it("names a critical extension that is not understood", async () => {
    await expectRefused(verify([await proof({ overrideHeader: { crit: ["exp"], exp: 1 } })]), "signature");
  });
});

describe("verifyDpopProof refuses a proof whose claims", () => {
  it("are not a JSON object", async () => {
    const [p] = segments(await proof());
    const notJson = Buffer.from("not json").toString("base64url");
    await expectRefused(verify([`${p}.${notJson}.c2ln`]), "payload");
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["not a string", 12345],
    ["longer than 256 characters", "j".repeat(257)],
  ])("have a jti that is %s", async (_, jti) => {
    await expectRefused(verify([await proof({ overridePayload: { jti } })]), "jti");
  });

  it.each([
    ["another method", "GET"],
    ["the lower-case method", "post"],
    ["missing", undefined],
  ])("have an htm that is %s", async (_, htm) => {
    await expectRefused(verify([await proof({ overridePayload: { htm } })]), "htm");
  });

  it.each([
    ["another host", "https://evil.example.com/graphql"],
    ["a sub-domain", "https://api.example.com.evil.example/graphql"],
    ["another port", "https://api.example.com:8443/graphql"],
    ["another path", "https://api.example.com/other"],
    ["a trailing slash", "https://api.example.com/graphql/"],
    ["a path prefix", "https://api.example.com/graphql/extra"],
    ["another scheme", "http://api.example.com/graphql"],
    ["userinfo", "https://user@api.example.com/graphql"],
    ["a relative reference", "/graphql"],
    ["another URI scheme", "wss://api.example.com/graphql"],
    ["embedded whitespace", "https://api.example.com/gra phql"],
    // WHATWG URL parsers silently drop tabs and newlines; a URI has none, so they are refused first.
    ["an embedded tab", "https://api.example.com/gra\tphql"],
    ["an embedded newline", "https://api.example.com/graph\nql"],
    ["an encoded slash", "https://api.example.com%2Fgraphql"],
    ["missing", undefined],
  ])("have an htu with %s", async (_, htu) => {
    await expectRefused(verify([await proof({ overridePayload: { htu } })]), "htu");
  });

  it("have an htu that is not a string", async () => {
    await expectRefused(
      verify([await proof({ overridePayload: { htu: ["https://api.example.com/graphql"] } })]),
      "htu",
    );
  });
});

describe("verifyDpopProof bounds iat to ±iatWindowSeconds around the clock", () => {
  it("accepts a proof exactly 60 s old and refuses it one second later", async () => {
    const jws = await proof();
    clock.advanceSeconds(60);
    await expect(verify([jws])).resolves.toMatchObject({ jkt: key.jkt });
    const again = await proof({ iat: new Date(clock.now().getTime() - 61_000) });
    await expectRefused(verify([again]), "iat");
  });

  it("refuses a proof 61 s old, moving the clock", async () => {
    const jws = await proof();
    clock.advanceSeconds(61);
    await expectRefused(verify([jws]), "iat");
  });

  it("accepts a proof issued 60 s ahead of the clock and refuses one 61 s ahead", async () => {
    const ahead = await proof({ iat: new Date(clock.now().getTime() + 60_000) });
    await expect(verify([ahead])).resolves.toMatchObject({ jkt: key.jkt });
    const further = await proof({ iat: new Date(clock.now().getTime() + 61_000) });
    await expectRefused(verify([further]), "iat");
  });

  it("follows a configured window", async () => {
    const jws = await proof();
    clock.advanceSeconds(11);
    await expectRefused(verify([jws], {}, { ...deps, iatWindowSeconds: 10 }), "iat");
  });

  it.each([
    ["missing", undefined],
    ["a string", "1893456000"],
    ["NaN-like", null],
  ])("refuses an iat that is %s", async (_, iat) => {
    await expectRefused(verify([await proof({ overridePayload: { iat } })]), "iat");
  });
});

describe("verifyDpopProof binds the proof to the access token and key", () => {
  it("refuses a proof without ath when an access token is presented", async () => {
    await expectRefused(verify([await proof()], { accessToken: ACCESS_TOKEN }), "ath");
  });

  it("refuses an ath computed over another token", async () => {
    const jws = await proof({ accessToken: `${ACCESS_TOKEN}x` });
    await expectRefused(verify([jws], { accessToken: ACCESS_TOKEN }), "ath");
  });

  it("refuses an ath padded with '=' or in another encoding", async () => {
    const padded = `${athFor(ACCESS_TOKEN)}=`;
    await expectRefused(verify([await proof({ ath: padded })], { accessToken: ACCESS_TOKEN }), "ath");
    const base64 = Buffer.from(athFor(ACCESS_TOKEN), "base64url").toString("base64");
    await expectRefused(verify([await proof({ ath: base64 })], { accessToken: ACCESS_TOKEN }), "ath");
  });

  it("refuses a proof made with another key than the token's cnf.jkt", async () => {
    const other = await createDpopKey();
    await expectRefused(verify([await proof({}, other)], { expectedJkt: key.jkt }), "jkt");
  });
});

describe("verifyDpopProof allows each proof once", () => {
  it("refuses the same proof a second time", async () => {
    const jws = await proof();
    await verify([jws]);
    await expectRefused(verify([jws]), "replay");
  });

  it("refuses a second proof reusing a jti of the same key within the window", async () => {
    await verify([await proof({ jti: "same-jti" })]);
    clock.advanceSeconds(30);
    await expectRefused(verify([await proof({ jti: "same-jti" })]), "replay");
  });

  it("keeps the replay entry until the proof's iat falls out of the window", async () => {
    const jws = await proof();
    await verify([jws]);
    clock.advanceSeconds(60);
    await expectRefused(verify([jws]), "replay");
    clock.advanceSeconds(1);
    await expectRefused(verify([jws]), "iat");
  });

  it("does not let one client's jti collide with another client's", async () => {
    const other = await createDpopKey();
    await verify([await proof({ jti: "counter-1" })]);
    await expect(verify([await proof({ jti: "counter-1" }, other)])).resolves.toMatchObject({
      jkt: other.jkt,
    });
  });

  it("consumes the jti only for a fully valid proof", async () => {
    const calls: string[] = [];
    const spy: ReplayStore = {
      remember: (jti, expiresAt) => {
        calls.push(jti);
        return store.remember(jti, expiresAt);
      },
    };
    const spied = { ...deps, replayStore: spy };
    const other = await createDpopKey();
    await expectRefused(verify([await proof({ signWith: other })], {}, spied), "signature");
    await expectRefused(verify([await proof()], { method: "GET" }, spied), "htm");
    await expectRefused(verify([await proof()], { accessToken: ACCESS_TOKEN }, spied), "ath");
    await expectRefused(verify([await proof()], { expectedJkt: other.jkt }, spied), "jkt");
    expect(calls).toEqual([]);
    const jws = await proof({ jti: "kept" });
    await expect(verify([jws], { method: "GET" }, spied)).rejects.toMatchObject({ check: "htm" });
    await expect(verify([jws], {}, spied)).resolves.toMatchObject({ jti: "kept" });
    expect(calls).toEqual([`${key.jkt}:kept`]);
  });

  it("propagates a replay store failure instead of accepting the proof", async () => {
    const broken: ReplayStore = { remember: () => Promise.reject(new Error("store down")) };
    await expect(verify([await proof()], {}, { ...deps, replayStore: broken })).rejects.toThrow("store down");
  });
});

describe("verifyDpopProof configuration", () => {
  it("throws a TypeError for a configured URL that is not absolute http(s)", async () => {
    await expect(verify([await proof()], { url: "/graphql" })).rejects.toBeInstanceOf(TypeError);
    await expect(verify([await proof()], { url: "ftp://api.example.com/graphql" })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
