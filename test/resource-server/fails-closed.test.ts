// The verifier fails closed by default: it does not start blind, does not serve on a stale
// revocation state, says what goes wrong, and forgets a revocation no earlier than it would
// accept the token.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createResourceServerVerifier,
  type ResourceServerVerifier,
  type ResourceServerVerifierOptions,
} from "../../src/resource-server/index.js";
import { OAUTH_TEST_ENV, RS_CLIENT, RS_SECRET } from "../oauth/oauth-support.js";
import { registerUser, startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer | undefined;
let verifier: ResourceServerVerifier | undefined;
afterEach(async () => {
  await verifier?.close();
  await t?.close();
  t = verifier = undefined;
  vi.restoreAllMocks();
  vi.doUnmock("ioredis");
});

async function holdfast() {
  t = await startTestServer(OAUTH_TEST_ENV);
  const base = await t.listen();
  const server = t;
  const make = (options: Partial<ResourceServerVerifierOptions>) => {
    verifier = createResourceServerVerifier({
      issuer: "http://localhost:4000",
      audience: "holdfast",
      jwksUri: `${base}/.well-known/jwks.json`,
      now: () => server.clock.now().getTime(),
      onError: () => {},
      ...options,
    });
    return verifier;
  };
  return { t, base, make };
}

const get = (token: string) => ({
  authorization: `Bearer ${token}`,
  method: "GET",
  url: "http://svc.test/x",
});

describe("the verifier fails closed", () => {
  it("start() rejects with a mistyped poll secret and no Redis", async () => {
    const { base, make } = await holdfast();
    const v = make({
      revocations: {
        poll: { url: `${base}/oauth/revoked-sessions`, clientId: RS_CLIENT, clientSecret: `${RS_SECRET}x` },
      },
    });
    await expect(v.start()).rejects.toMatchObject({
      name: "RevocationFeedError",
      message: expect.stringContaining("HTTP 401"),
    });
  });

  it("start() rejects when the revoked-session list is unreachable", async () => {
    const { make } = await holdfast();
    const v = make({
      revocations: {
        poll: {
          url: "http://127.0.0.1:9/oauth/revoked-sessions",
          clientId: RS_CLIENT,
          clientSecret: RS_SECRET,
        },
      },
    });
    await expect(v.start()).rejects.toMatchObject({ name: "RevocationFeedError" });
  });

  it("start() rejects with a clear message when revocations.redis is set and ioredis cannot be loaded", async () => {
    vi.doMock("ioredis", () => {
      throw new Error("Cannot find package 'ioredis'");
    });
    const { base, make } = await holdfast();
    const v = make({
      revocations: {
        redis: { url: "redis://127.0.0.1:6379" },
        poll: { url: `${base}/oauth/revoked-sessions`, clientId: RS_CLIENT, clientSecret: RS_SECRET },
      },
    });
    await expect(v.start()).rejects.toThrow(/ioredis cannot be loaded/);
  });

  it("the default onError writes one warning per cause, never nothing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { base, t } = await holdfast();
    const server = t;
    verifier = createResourceServerVerifier({
      issuer: "http://localhost:4000",
      audience: "holdfast",
      jwksUri: `${base}/.well-known/jwks.json`,
      now: () => server.clock.now().getTime(),
      revocations: {
        redis: { url: "redis://127.0.0.1:1" },
        poll: { url: `${base}/oauth/revoked-sessions`, clientId: RS_CLIENT, clientSecret: RS_SECRET },
      },
    });
    await verifier.start();
    expect(warn).toHaveBeenCalled();
    const contexts = warn.mock.calls.map((call) => String(call[0]).split(":")[0]);
    expect(new Set(contexts).size).toBe(contexts.length);
  });

  it("keeps a revocation until exp plus the verifier's tolerance when it is larger than Holdfast's", async () => {
    const { base, make, t } = await holdfast();
    const v = make({
      clockToleranceSeconds: 60,
      maxRevocationStalenessSeconds: Number.POSITIVE_INFINITY,
      revocations: {
        poll: { url: `${base}/oauth/revoked-sessions`, clientId: RS_CLIENT, clientSecret: RS_SECRET },
      },
    });
    const user = await registerUser(t);
    await t.gql("mutation { logout }", { token: user.accessToken });
    await v.start();
    expect(v.isRevoked(user.session.id)).toBe(true);
    // Past Holdfast's expiry plus its tolerance, within the verifier's: still a signed, acceptable token.
    const exp = Math.floor(Date.parse(user.expiresAt) / 1000);
    const nowSeconds = Math.floor(t.clock.now().getTime() / 1000);
    t.clock.advanceSeconds(exp - nowSeconds + t.config.tokens.clockToleranceSeconds + 8);
    const refusal = await v.verify(get(user.accessToken)).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ reason: "token_revoked" });
  });
});
