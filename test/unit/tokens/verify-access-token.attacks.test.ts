import { CompactEncrypt, exportJWK, FlattenedSign, generateKeyPair, generateSecret, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccessTokenVerifier } from "../../../src/auth/tokens/verify-access-token.js";
import {
  b64,
  createTokenFixture,
  expectUnauthenticated,
  TOLERANCE_SECONDS,
  type TokenFixture,
  TTL_SECONDS,
} from "./token-fixture.js";

// Every test here tries to get a forged, altered or out-of-time token accepted. Unless a test says
// otherwise the cache is off, so each token goes through the full verification path.
let f: TokenFixture;
beforeEach(async () => {
  f = await createTokenFixture({ cacheSize: 0 });
});
afterEach(async () => {
  await f.close();
});

const segments = (token: string) => token.split(".") as [string, string, string];

describe("alg confusion", () => {
  for (const alg of ["none", "None", "NONE"]) {
    it(`refuses an unsigned token with alg "${alg}"`, async () => {
      const { kid } = f.keys.signingKey();
      const header = b64(JSON.stringify({ alg, kid, typ: "at+jwt" }));
      const payload = b64(JSON.stringify(f.claims()));
      await expectUnauthenticated(f.verifier.verify(`${header}.${payload}.`), "invalid_token");
      // Some libraries accept any junk signature once alg is none: try that too.
      await expectUnauthenticated(f.verifier.verify(`${header}.${payload}.AAAA`), "invalid_token");
    });
  }

  it("refuses HS256 signed with our public key as the HMAC secret", async () => {
    const [jwk] = f.keys.jwks().keys;
    if (jwk === undefined) throw new Error("no published key");
    const secrets = [
      new TextEncoder().encode(JSON.stringify(jwk)),
      Buffer.from(jwk.x, "base64url"),
      new TextEncoder().encode(jwk.x),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(f.claims())
        .setProtectedHeader({ alg: "HS256", kid: jwk.kid, typ: "at+jwt" })
        .sign(secret);
      await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
    }
  });

  it.each([
    ["refuses RS256 (an algorithm we do not use) even under our kid", "RS256"],
    ["refuses ES256 when EdDSA is configured, though ES256 is a supported alg", "ES256"],
  ])("%s", async (_name, alg) => {
    const { privateKey } = await generateKeyPair(alg);
    const token = await new SignJWT(f.claims())
      .setProtectedHeader({ alg, kid: f.keys.signingKey().kid, typ: "at+jwt" })
      .sign(privateKey);
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses a token that names our kid but was signed by another Ed25519 key", async () => {
    const { privateKey } = await generateKeyPair("EdDSA");
    const token = await f.signRaw(
      JSON.stringify({ alg: "EdDSA", kid: f.keys.signingKey().kid, typ: "at+jwt" }),
      JSON.stringify(f.claims()),
      privateKey,
    );
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });
});

describe("kid and key-location headers", () => {
  const kids = ["unknown-kid", "../../etc/passwd", "' OR 1=1 --", "", "x".repeat(5000)];
  for (const kid of kids) {
    it(`refuses kid ${JSON.stringify(kid.slice(0, 20))} even with a valid signature`, async () => {
      await expectUnauthenticated(f.verifier.verify(await f.forge(f.claims(), { kid })), "invalid_token");
    });
  }

  it("refuses a token with no kid", async () => {
    await expectUnauthenticated(
      f.verifier.verify(await f.forge(f.claims(), { kid: undefined })),
      "invalid_token",
    );
  });

  it("refuses a kid that is not a string", async () => {
    await expectUnauthenticated(f.verifier.verify(await f.forge(f.claims(), { kid: 1 })), "invalid_token");
  });

  it("refuses jku, x5u, jwk and x5c headers even when the signature is by our key", async () => {
    const [ours] = f.keys.jwks().keys;
    const headers: Record<string, unknown>[] = [
      { jku: "https://attacker.example/jwks.json" },
      { x5u: "https://attacker.example/cert.pem" },
      { jwk: ours },
      { x5c: ["MIIBszCCAVmgAwIBAgIUaaaaaaaa"] },
      { x5t: "abc" },
      { "x5t#S256": "abc" },
    ];
    for (const header of headers) {
      await expectUnauthenticated(f.verifier.verify(await f.forge(f.claims(), header)), "invalid_token");
    }
  });

  it("refuses an embedded jwk that carries the attacker's own key", async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const jwk = await exportJWK(publicKey);
    const token = await f.signRaw(
      JSON.stringify({ alg: "EdDSA", typ: "at+jwt", jwk }),
      JSON.stringify(f.claims()),
      privateKey,
    );
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses an unknown crit extension", async () => {
    const token = await f.forge(f.claims(), { crit: ["exp-ext"], "exp-ext": true });
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses an unencoded payload (crit b64, RFC 7797)", async () => {
    const token = await f.forge(f.claims(), { crit: ["b64"], b64: false });
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses a header that repeats alg", async () => {
    const { kid } = f.keys.signingKey();
    const header = `{"alg":"none","kid":"${kid}","typ":"at+jwt","alg":"EdDSA"}`;
    const token = await f.signRaw(header, JSON.stringify(f.claims()));
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });
});

describe("required claims", () => {
  for (const claim of ["exp", "sub", "sid", "jti", "iat", "nbf"]) {
    it(`refuses a token without ${claim}`, async () => {
      const claims = f.claims();
      delete claims[claim];
      await expectUnauthenticated(f.verifier.verify(await f.forge(claims)), "invalid_token");
    });
  }

  for (const claim of ["sub", "sid", "jti"]) {
    it(`refuses ${claim} that is empty or not a string`, async () => {
      for (const value of ["", 42, null, ["user-1"]]) {
        const token = await f.forge({ ...f.claims(), [claim]: value });
        await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
      }
    });
  }

  it("refuses exp, iat or nbf given as strings", async () => {
    for (const claim of ["exp", "iat", "nbf"]) {
      const claims = f.claims();
      const token = await f.forge({ ...claims, [claim]: String(claims[claim]) });
      await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
    }
  });
});

describe("time", () => {
  it("accepts a token expired by less than the clock tolerance", async () => {
    const { token } = await f.issue();
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS - 1);
    await expect(f.verifier.verify(token)).resolves.toMatchObject({ userId: "user-1" });
  });

  it("refuses with token_expired a token expired by exactly the clock tolerance", async () => {
    const { token } = await f.issue();
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS);
    await expectUnauthenticated(f.verifier.verify(token), "token_expired");
  });

  it("says invalid_token, not token_expired, for an expired token with a bad signature", async () => {
    const { token } = await f.issue();
    const [h, p, s] = segments(token);
    const flipped = `${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS + 60);
    await expectUnauthenticated(f.verifier.verify(`${h}.${p}.${flipped}`), "invalid_token");
  });

  it("says invalid_token for an expired token with a wrong issuer", async () => {
    const claims = f.claims();
    const token = await f.forge({ ...claims, iss: "https://evil.example", exp: (claims.iat as number) - 60 });
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses a token whose lifetime exceeds the configured ttl once it is older than ttl", async () => {
    const claims = f.claims();
    const token = await f.forge({ ...claims, exp: (claims.iat as number) + 86_400 });
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS + 1);
    await expectUnauthenticated(f.verifier.verify(token), "token_expired");
  });

  it("refuses nbf in the future beyond the tolerance, accepts it within", async () => {
    const now = f.claims().iat as number;
    const late = await f.forge({ ...f.claims(), nbf: now + TOLERANCE_SECONDS + 1 });
    await expectUnauthenticated(f.verifier.verify(late), "invalid_token");
    const withinTolerance = await f.forge({ ...f.claims(), nbf: now + TOLERANCE_SECONDS });
    await expect(f.verifier.verify(withinTolerance)).resolves.toBeDefined();
  });

  it("refuses iat in the future beyond the tolerance", async () => {
    const now = f.claims().iat as number;
    const token = await f.forge({ ...f.claims(), iat: now + TOLERANCE_SECONDS + 1 });
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses a token signed by a retired key after that key expired", async () => {
    const old = f.keys.signingKey();
    await f.keys.rotate({ immediate: true });
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS);
    // Fresh claims: only the key's expiry can refuse it.
    const token = await f.signRaw(
      JSON.stringify({ alg: old.alg, kid: old.kid, typ: "at+jwt" }),
      JSON.stringify(f.claims()),
      old.key,
    );
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });
});

describe("issuer, audience, type", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["a wrong iss", { iss: "https://evil.example" }],
    ["a missing iss", { iss: undefined }],
    ["a wrong aud", { aud: "another-api" }],
    ["an aud list without ours", { aud: ["another-api", "third-api"] }],
    ["a missing aud", { aud: undefined }],
  ];
  for (const [name, change] of cases) {
    it(`refuses ${name}`, async () => {
      await expectUnauthenticated(
        f.verifier.verify(await f.forge({ ...f.claims(), ...change })),
        "invalid_token",
      );
    });
  }

  for (const typ of ["JWT", "jwt", "dpop+jwt", undefined]) {
    it(`refuses typ ${String(typ)}`, async () => {
      await expectUnauthenticated(f.verifier.verify(await f.forge(f.claims(), { typ })), "invalid_token");
    });
  }
});

describe("tampering", () => {
  it("refuses a token whose signature was stripped", async () => {
    const { token } = await f.issue();
    const [h, p] = segments(token);
    await expectUnauthenticated(f.verifier.verify(`${h}.${p}.`), "invalid_token");
    await expectUnauthenticated(f.verifier.verify(`${h}.${p}`), "invalid_token");
  });

  it("refuses a token carrying the signature of another token", async () => {
    const a = await f.issue({ userId: "victim" });
    const b = await f.issue({ userId: "attacker" });
    const [h, p] = segments(b.token);
    await expectUnauthenticated(f.verifier.verify(`${h}.${p}.${segments(a.token)[2]}`), "invalid_token");
  });

  it("refuses a token whose payload was altered", async () => {
    const { token, claims } = await f.issue({ scopes: ["notes:read"] });
    const [h, , s] = segments(token);
    const altered = b64(JSON.stringify({ ...claims, scope: "notes:read admin" }));
    await expectUnauthenticated(f.verifier.verify(`${h}.${altered}.${s}`), "invalid_token");
  });

  it("refuses a token whose header was altered", async () => {
    const { token } = await f.issue();
    const [, p, s] = segments(token);
    const header = b64(JSON.stringify({ alg: f.alg, kid: f.keys.signingKey().kid, typ: "at+JWT" }));
    await expectUnauthenticated(f.verifier.verify(`${header}.${p}.${s}`), "invalid_token");
  });

  it("refuses duplicate claim names in the payload (the last sub would win in JSON.parse)", async () => {
    const c = f.claims();
    const json = `{"iss":"${c.iss}","aud":"${c.aud}","sub":"user-1","iat":${c.iat},"nbf":${c.nbf},"exp":${c.exp},"jti":"j","sid":"s","scope":"","sub":"admin"}`;
    await expectUnauthenticated(f.verifier.verify(await f.signRaw(jsonHeader(f), json)), "invalid_token");
  });

  it("refuses duplicate claim names spelled with a unicode escape", async () => {
    const c = f.claims();
    const json = `{"iss":"${c.iss}","aud":"${c.aud}","sub":"user-1","iat":${c.iat},"nbf":${c.nbf},"exp":${c.exp},"jti":"j","sid":"s","\\u0073ub":"admin"}`;
    await expectUnauthenticated(f.verifier.verify(await f.signRaw(jsonHeader(f), json)), "invalid_token");
  });

  it("refuses duplicate names inside a nested claim", async () => {
    const json = JSON.stringify({ ...f.claims(), cnf: { jkt: "A".repeat(43) } }).replace(
      `"jkt":"${"A".repeat(43)}"`,
      `"jkt":"${"A".repeat(43)}","jkt":"${"B".repeat(43)}"`,
    );
    await expectUnauthenticated(f.verifier.verify(await f.signRaw(jsonHeader(f), json)), "invalid_token");
  });
});

describe("claim types", () => {
  for (const scope of [["notes:read"], 42, null, true, { admin: true }]) {
    it(`refuses scope of type ${Array.isArray(scope) ? "array" : typeof scope} (${JSON.stringify(scope)})`, async () => {
      await expectUnauthenticated(
        f.verifier.verify(await f.forge({ ...f.claims(), scope })),
        "invalid_token",
      );
    });
  }

  it("refuses a scope string that is not RFC 6749 scope syntax", async () => {
    for (const scope of ["notes:read  admin", " notes:read", "notes:read\nadmin", 'a"b']) {
      await expectUnauthenticated(
        f.verifier.verify(await f.forge({ ...f.claims(), scope })),
        "invalid_token",
      );
    }
  });

  it("refuses a malformed cnf", async () => {
    const bad = [
      "thumbprint",
      null,
      [],
      {},
      { jkt: 42 },
      { jkt: "too-short" },
      { jkt: `${"A".repeat(42)}=` },
      { jkt: "A".repeat(43), "x5t#S256": "A".repeat(43) },
      { jwk: { kty: "OKP" } },
    ];
    for (const cnf of bad) {
      await expectUnauthenticated(f.verifier.verify(await f.forge({ ...f.claims(), cnf })), "invalid_token");
    }
  });

  it("refuses a payload that is not a JSON object", async () => {
    for (const payload of ['"string"', "[1,2]", "42", "null", "{not json}"]) {
      await expectUnauthenticated(
        f.verifier.verify(await f.signRaw(jsonHeader(f), payload)),
        "invalid_token",
      );
    }
  });
});

describe("serialisation and size", () => {
  it("refuses a JWE (five segments) that names our kid", async () => {
    const secret = await generateSecret("A256GCM");
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(f.claims())))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: f.keys.signingKey().kid, typ: "at+jwt" })
      .encrypt(secret);
    expect(jwe.split(".")).toHaveLength(5);
    await expectUnauthenticated(f.verifier.verify(jwe), "invalid_token");
  });

  it("refuses the JSON serialisation of a JWS signed by our key", async () => {
    const { kid, key } = f.keys.signingKey();
    const jws = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(f.claims())))
      .setProtectedHeader({ alg: f.alg, kid, typ: "at+jwt" })
      .sign(key);
    await expectUnauthenticated(f.verifier.verify(JSON.stringify(jws)), "invalid_token");
  });

  it("refuses a 1 MB token", async () => {
    const { token } = await f.issue();
    const [h, , s] = segments(token);
    const huge = `${h}.${"A".repeat(1024 * 1024)}.${s}`;
    await expectUnauthenticated(f.verifier.verify(huge), "invalid_token");
  });

  it("refuses a token just over 8 KiB though our key signed it", async () => {
    const padded = await f.forge({ ...f.claims(), pad: "x".repeat(6200) });
    expect(padded.length).toBeGreaterThan(8192);
    await expectUnauthenticated(f.verifier.verify(padded), "invalid_token");
  });

  it("refuses padding, whitespace and non-base64url characters in segments", async () => {
    const { token } = await f.issue();
    const [h, p, s] = segments(token);
    for (const bad of [`${h}=.${p}.${s}`, ` ${token}`, `${token} `, `${h}.${p}.${s}\n`, `${h}.${p}+.${s}`]) {
      await expectUnauthenticated(f.verifier.verify(bad), "invalid_token");
    }
  });

  it("refuses values that are not a token at all", async () => {
    for (const junk of ["", ".", "..", "...", "a.b.c", "Bearer x.y.z"]) {
      await expectUnauthenticated(f.verifier.verify(junk), "invalid_token");
    }
    await expectUnauthenticated(f.verifier.verify(42 as unknown as string), "invalid_token");
  });
});

describe("the cache does not launder tokens", () => {
  it("does not cache a refused token", async () => {
    const cached = new AccessTokenVerifier({
      keys: f.keys,
      clock: f.clock,
      config: { ...f.config, cacheSize: 10 },
    });
    const token = await f.forge({ ...f.claims(), iss: "https://evil.example" });
    await expectUnauthenticated(cached.verify(token), "invalid_token");
    await expectUnauthenticated(cached.verify(token), "invalid_token");
  });
});

function jsonHeader(fx: TokenFixture): string {
  return JSON.stringify({ alg: fx.alg, kid: fx.keys.signingKey().kid, typ: "at+jwt" });
}
