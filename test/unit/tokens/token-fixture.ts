import { expect } from "vitest";
import { KeyStore } from "../../../src/auth/keys/key-store.js";
import type { SigningAlg } from "../../../src/auth/keys/signing-key-material.js";
import { type IssueAccessTokenInput, issueAccessToken } from "../../../src/auth/tokens/issue-access-token.js";
import { AccessTokenVerifier } from "../../../src/auth/tokens/verify-access-token.js";
import { epochSeconds } from "../../../src/clock.js";
import { UnauthenticatedError, type UnauthenticatedReason } from "../../../src/errors/app-error.js";
import { FakeClock } from "../../support/fake-clock.js";
import { createTestDatabase } from "../../support/test-db.js";

export const TTL_SECONDS = 300;
export const TOLERANCE_SECONDS = 5;
export const PUBLISH_DELAY_SECONDS = 60;

export interface TokenFixtureOptions {
  alg?: SigningAlg;
  cacheSize?: number;
}

/** A key store on a fresh database, a verifier and an issuer sharing one fake clock. */
export async function createTokenFixture(options: TokenFixtureOptions = {}) {
  const alg = options.alg ?? "EdDSA";
  const clock = new FakeClock("2030-01-01T00:00:00.000Z");
  const db = await createTestDatabase();
  const keys = await KeyStore.open({
    prisma: db.prisma,
    clock,
    config: {
      alg,
      encryptionSecret: null,
      accessTokenTtlSeconds: TTL_SECONDS,
      clockToleranceSeconds: TOLERANCE_SECONDS,
      publishDelaySeconds: PUBLISH_DELAY_SECONDS,
    },
  });
  const config = {
    issuer: "https://holdfast.test",
    audience: "holdfast",
    alg,
    accessTokenTtlSeconds: TTL_SECONDS,
    clockToleranceSeconds: TOLERANCE_SECONDS,
    cacheSize: options.cacheSize ?? 100,
  };
  const verifier = new AccessTokenVerifier({ keys, clock, config });

  const issue = (input: Partial<IssueAccessTokenInput> = {}) =>
    issueAccessToken(
      { keys, clock, config },
      { userId: "user-1", sessionId: "session-1", scopes: ["notes:read", "notes:write"], ...input },
    );

  /** The claims issueAccessToken would write now; tests edit them to build hostile tokens. */
  const claims = (): Record<string, unknown> => {
    const iat = epochSeconds(clock.now());
    return {
      iss: config.issuer,
      aud: config.audience,
      sub: "user-1",
      iat,
      nbf: iat,
      exp: iat + TTL_SECONDS,
      jti: "jti-1",
      sid: "session-1",
      scope: "notes:read",
    };
  };

  /** Signs exactly the given JSON texts with the current signing key: nothing normalised, nothing checked. */
  const signRaw = async (headerJson: string, payloadJson: string, key = keys.signingKey().key) => {
    const input = `${b64(headerJson)}.${b64(payloadJson)}`;
    const params = alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
    const signature = await crypto.subtle.sign(params, key, new TextEncoder().encode(input));
    return `${input}.${Buffer.from(signature).toString("base64url")}`;
  };

  /** A token signed by our key with the standard header, overridden by `header`. */
  const forge = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const { kid } = keys.signingKey();
    return signRaw(JSON.stringify({ alg, kid, typ: "at+jwt", ...header }), JSON.stringify(payload));
  };

  return { alg, clock, db, keys, config, verifier, issue, claims, signRaw, forge, close: () => db.close() };
}

export type TokenFixture = Awaited<ReturnType<typeof createTokenFixture>>;

export function b64(text: string | Uint8Array): string {
  return Buffer.from(text).toString("base64url");
}

/** Asserts the promise rejects with UnauthenticatedError carrying `reason`. */
export async function expectUnauthenticated(promise: Promise<unknown>, reason: UnauthenticatedReason) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect((error as UnauthenticatedError).reason).toBe(reason);
  expect((error as UnauthenticatedError).code).toBe("UNAUTHENTICATED");
}
