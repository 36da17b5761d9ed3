import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { epochSeconds } from "../../../src/clock.js";
import { createTokenFixture, type TokenFixture, TTL_SECONDS } from "./token-fixture.js";

let f: TokenFixture;
beforeEach(async () => {
  f = await createTokenFixture();
});
afterEach(async () => {
  await f.close();
});

describe("issueAccessToken", () => {
  it("writes the RFC 9068 header: alg, kid of the signing key, typ at+jwt, nothing else", async () => {
    const { token } = await f.issue();
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "EdDSA",
      kid: f.keys.signingKey().kid,
      typ: "at+jwt",
    });
  });

  it("writes absolute times from the injected clock: iat = nbf = now, exp = now + ttl", async () => {
    f.clock.set("2031-06-01T12:00:00.750Z");
    const { token, expiresAt, claims } = await f.issue();
    const now = epochSeconds(f.clock.now());
    expect(decodeJwt(token)).toEqual(claims);
    expect(claims).toMatchObject({
      iss: f.config.issuer,
      aud: f.config.audience,
      sub: "user-1",
      sid: "session-1",
      iat: now,
      nbf: now,
      exp: now + TTL_SECONDS,
      scope: "notes:read notes:write",
    });
    expect(claims.cnf).toBeUndefined();
    expect(expiresAt.getTime()).toBe(claims.exp * 1000);
  });

  it("binds the token to a DPoP key with cnf.jkt", async () => {
    const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    const { claims } = await f.issue({ jkt });
    expect(claims.cnf).toEqual({ jkt });
  });

  it("gives every token a distinct, unguessable jti", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await f.issue()).jti);
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("issues a shorter token on request and refuses a longer one", async () => {
    const { claims } = await f.issue({ ttlSeconds: 60 });
    expect(claims.exp - claims.iat).toBe(60);
    await expect(f.issue({ ttlSeconds: TTL_SECONDS + 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(f.issue({ ttlSeconds: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(f.issue({ ttlSeconds: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });

  it("refuses scope tokens outside RFC 6749 syntax, and drops duplicates", async () => {
    for (const scope of ["", "notes read", 'a"b', "a\\b", "é"]) {
      await expect(f.issue({ scopes: [scope] })).rejects.toBeInstanceOf(TypeError);
    }
    expect((await f.issue({ scopes: ["a", "b", "a"] })).claims.scope).toBe("a b");
  });

  it("refuses an empty subject or session, and a malformed jkt", async () => {
    await expect(f.issue({ userId: "" })).rejects.toBeInstanceOf(TypeError);
    await expect(f.issue({ sessionId: "" })).rejects.toBeInstanceOf(TypeError);
    await expect(f.issue({ jkt: "not-a-thumbprint" })).rejects.toBeInstanceOf(TypeError);
  });
});
