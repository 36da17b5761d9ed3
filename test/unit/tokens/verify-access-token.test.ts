import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { AccessTokenVerifier } from "../../../src/auth/tokens/verify-access-token.js";
import { closeAfterEach } from "../../support/close-after-each.js";
import {
  createTokenFixture,
  expectUnauthenticated,
  PUBLISH_DELAY_SECONDS,
  TOLERANCE_SECONDS,
  TTL_SECONDS,
} from "./token-fixture.js";

const JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

const opened = closeAfterEach();

describe("AccessTokenVerifier", () => {
  it("verifies a token it issued and returns the viewer", async () => {
    const f = opened(await createTokenFixture());
    const { token, claims } = await f.issue({ scopes: ["notes:read", "users:read:email"], jkt: JKT });
    const viewer = await f.verifier.verify(token);
    expect({ ...viewer, scopes: [...viewer.scopes] }).toEqual({
      userId: "user-1",
      sessionId: "session-1",
      scopes: ["notes:read", "users:read:email"],
      jkt: JKT,
      expiresAt: claims.exp,
      tokenId: claims.jti,
      authentication: null,
      authTime: null,
      acr: null,
    });
  });

  it("returns jkt null for an unbound (Bearer) token, and no scopes for an empty scope", async () => {
    const f = opened(await createTokenFixture());
    const { token } = await f.issue({ scopes: [] });
    const viewer = await f.verifier.verify(token);
    expect(viewer.jkt).toBeNull();
    expect(viewer.scopes.size).toBe(0);
  });

  it("works with ES256 configured", async () => {
    const f = opened(await createTokenFixture({ alg: "ES256" }));
    const { token } = await f.issue();
    expect(decodeProtectedHeader(token).alg).toBe("ES256");
    expect(f.keys.jwks().keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    await expect(f.verifier.verify(token)).resolves.toMatchObject({ userId: "user-1" });
  });

  it("refuses an EdDSA token when ES256 is configured", async () => {
    const ed = await createTokenFixture({ alg: "EdDSA" });
    const f = opened(await createTokenFixture({ alg: "ES256" }));
    try {
      const { token } = await ed.issue();
      await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
    } finally {
      await ed.close();
    }
  });

  it("keeps verifying tokens of the previous key after a rotation", async () => {
    const f = opened(await createTokenFixture());
    const before = await f.issue();
    await f.keys.rotate();
    f.clock.advanceSeconds(PUBLISH_DELAY_SECONDS);
    const after = await f.issue();
    expect(decodeProtectedHeader(after.token).kid).not.toBe(decodeProtectedHeader(before.token).kid);
    await expect(f.verifier.verify(before.token)).resolves.toBeDefined();
    await expect(f.verifier.verify(after.token)).resolves.toBeDefined();
  });
});

describe("verified-token cache", () => {
  it("returns the same viewer for a cached token", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 10 }));
    const { token } = await f.issue();
    const first = await f.verifier.verify(token);
    expect(await f.verifier.verify(token)).toBe(first);
  });

  it("does not cache when cacheSize is 0", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 0 }));
    const { token } = await f.issue();
    const first = await f.verifier.verify(token);
    const second = await f.verifier.verify(token);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
  });

  it("refuses a cached token once it expires, at the same instant as an uncached one", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 10 }));
    const uncached = new AccessTokenVerifier({
      keys: f.keys,
      clock: f.clock,
      config: { ...f.config, cacheSize: 0 },
    });
    const { token } = await f.issue();
    await f.verifier.verify(token);
    f.clock.advanceSeconds(TTL_SECONDS + TOLERANCE_SECONDS - 1);
    await expect(f.verifier.verify(token)).resolves.toBeDefined();
    await expect(uncached.verify(token)).resolves.toBeDefined();
    f.clock.advanceSeconds(1);
    await expectUnauthenticated(f.verifier.verify(token), "token_expired");
    await expectUnauthenticated(uncached.verify(token), "token_expired");
  });

  it("refuses a cached token once its key is retired and expired, even before the token's exp", async () => {
    // Only a holder of the retired private key can produce such a token (iat after retirement):
    // exactly the case key rotation exists for.
    const f = opened(await createTokenFixture({ cacheSize: 10 }));
    const old = f.keys.signingKey();
    await f.keys.rotate({ immediate: true });
    f.clock.advanceSeconds(TTL_SECONDS - 10);
    const token = await f.signRaw(
      JSON.stringify({ alg: old.alg, kid: old.kid, typ: "at+jwt" }),
      JSON.stringify(f.claims()),
      old.key,
    );
    await expect(f.verifier.verify(token)).resolves.toBeDefined();
    f.clock.advanceSeconds(10 + TOLERANCE_SECONDS);
    expect(f.keys.verificationKey(old.kid, old.alg)).toBeUndefined();
    expect(decodeJwt(token).exp).toBeGreaterThan(f.clock.now().getTime() / 1000);
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("refuses a cached token when the clock moves back before its nbf", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 10 }));
    const { token } = await f.issue();
    await f.verifier.verify(token);
    f.clock.advanceSeconds(-(TOLERANCE_SECONDS + 1));
    await expectUnauthenticated(f.verifier.verify(token), "invalid_token");
  });

  it("keeps a bounded number of entries (least recently used goes first)", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 2 }));
    const a = await f.issue();
    const b = await f.issue();
    const c = await f.issue();
    const va = await f.verifier.verify(a.token);
    await f.verifier.verify(b.token);
    await f.verifier.verify(c.token);
    expect(await f.verifier.verify(a.token)).not.toBe(va);
  });

  it("hands out viewers whose scopes cannot be edited", async () => {
    const f = opened(await createTokenFixture({ cacheSize: 10 }));
    const { token } = await f.issue({ scopes: ["notes:read"] });
    const viewer = await f.verifier.verify(token);
    expect(() => (viewer.scopes as Set<string>).add("admin")).toThrow(TypeError);
    expect(() => (viewer.scopes as Set<string>).clear()).toThrow(TypeError);
    expect(() => {
      (viewer as { userId: string }).userId = "admin";
    }).toThrow(TypeError);
    const again = await f.verifier.verify(token);
    expect([...again.scopes]).toEqual(["notes:read"]);
    expect(again.userId).toBe("user-1");
  });
});
