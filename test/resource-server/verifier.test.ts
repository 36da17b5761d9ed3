import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import {
  createResourceServerVerifier,
  type ResourceServerVerifier,
  type ResourceServerVerifierOptions,
} from "../../src/resource-server/index.js";
import { boundLogin } from "../dpop/dpop-client.js";
import { OAUTH_TEST_ENV, RS_CLIENT, RS_SECRET } from "../oauth/oauth-support.js";
import { createDpopProof } from "../support/dpop-proof.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import { registerUser, startTestServer, type TestServer } from "../support/test-server.js";

// Holdfast listens on a loopback port; the verifier runs in this process like another service would.
const SERVICE_URL = "http://notes-reader.test/me";

let t: TestServer | undefined;
let verifier: ResourceServerVerifier | undefined;
let prefix: string | undefined;
afterEach(async () => {
  await verifier?.close();
  await t?.close();
  if (prefix) await clearRedisPrefix(prefix);
  t = verifier = prefix = undefined;
});

async function setUp(
  env: Record<string, string> = {},
  options: (base: string) => Partial<ResourceServerVerifierOptions> = () => ({}),
) {
  t = await startTestServer({ ...OAUTH_TEST_ENV, ...env });
  const base = await t.listen();
  const server = t;
  verifier = createResourceServerVerifier({
    issuer: "http://localhost:4000",
    audience: "holdfast",
    jwksUri: `${base}/.well-known/jwks.json`,
    now: () => server.clock.now().getTime(),
    ...options(base),
  });
  await verifier.start();
  return { t, base, verifier };
}

const get = (token: string, extra: { scheme?: string; dpop?: string } = {}) => ({
  authorization: `${extra.scheme ?? "Bearer"} ${token}`,
  ...(extra.dpop ? { dpop: extra.dpop } : {}),
  method: "GET",
  url: SERVICE_URL,
});

/** Polls `check` until it holds or `withinMs` (on the wall clock) has passed; resolves to the time it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const refusedBecause = (
  v: ResourceServerVerifier,
  request: Parameters<ResourceServerVerifier["verify"]>[0],
) =>
  v.verify(request).then(
    () => null,
    (error: { reason?: string }) => error.reason ?? "?",
  );

/** A token the verifier accepted is refused as revoked soon after its session logs out. */
async function expectRevokedAfterLogout(server: TestServer, v: ResourceServerVerifier): Promise<void> {
  const user = await registerUser(server);
  await v.verify(get(user.accessToken));
  await server.gql("mutation { logout }", { token: user.accessToken });
  // The documented bound is the poll interval (1 s here) plus one request; allow for a busy machine.
  await within(3000, async () => (await refusedBecause(v, get(user.accessToken))) === "token_revoked");
}

describe("holdfast/resource-server verifier", () => {
  it("accepts a live Holdfast token and tells who the caller is", async () => {
    const { t, verifier } = await setUp();
    const user = await registerUser(t);
    const access = await verifier.verify(get(user.accessToken));
    expect(access.userId).toBe(user.user.id);
    expect(access.sessionId).toBe(user.session.id);
    expect([...access.scopes].sort()).toEqual([...user.scopes].sort());
  });

  it("refuses forged, expired, wrong-audience and wrong-type tokens", async () => {
    const { t, verifier } = await setUp();
    const user = await registerUser(t);
    const [h, p] = user.accessToken.split(".");
    expect(await refusedBecause(verifier, get(`${h}.${p}.AAAA`))).toBe("invalid_token");
    expect(await refusedBecause(verifier, get(`eyJhbGciOiJub25lIn0.${p}.`))).toBe("invalid_token");
    // Signed by Holdfast's own key, but a SET (typ secevent+jwt) or another audience: not an access token.
    const { key, kid, alg } = t.server.keys.signingKey();
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const asSet = await new SignJWT(claims).setProtectedHeader({ alg, kid, typ: "secevent+jwt" }).sign(key);
    expect(await refusedBecause(verifier, get(asSet))).toBe("invalid_token");
    const otherAud = await new SignJWT({ ...claims, aud: "another-api" })
      .setProtectedHeader({ alg, kid, typ: "at+jwt" })
      .sign(key);
    expect(await refusedBecause(verifier, get(otherAud))).toBe("invalid_token");
    t.clock.advance(3600_000);
    expect(await refusedBecause(verifier, get(user.accessToken))).toBe("token_expired");
  });

  it("needs the DPoP scheme and a proof from the bound key, for this URL, once", async () => {
    const { t, verifier } = await setUp();
    const { client, payload } = await boundLogin(t);
    const token = payload.accessToken;
    const proof = (options: { htu?: string; htm?: string; accessToken?: string } = {}) =>
      client.proof({ htu: SERVICE_URL, htm: "GET", accessToken: token, ...options });
    expect(await refusedBecause(verifier, get(token))).toBe("dpop_required");
    expect(await refusedBecause(verifier, get(token, { scheme: "DPoP" }))).toBe("dpop_required");
    expect(
      await refusedBecause(verifier, get(token, { scheme: "DPoP", dpop: await proof({ htm: "POST" }) })),
    ).toBe("invalid_dpop_proof");
    expect(
      await refusedBecause(
        verifier,
        get(token, { scheme: "DPoP", dpop: await proof({ htu: "http://x.test/me" }) }),
      ),
    ).toBe("invalid_dpop_proof");
    const { createDpopKey } = await import("../support/dpop-proof.js");
    const stranger = await createDpopKey();
    const foreign = await createDpopProof(stranger, {
      htm: "GET",
      htu: SERVICE_URL,
      iat: t.clock.now(),
      accessToken: token,
    });
    expect(await refusedBecause(verifier, get(token, { scheme: "DPoP", dpop: foreign }))).toBe(
      "invalid_dpop_proof",
    );
    const good = await proof();
    expect((await verifier.verify(get(token, { scheme: "DPoP", dpop: good }))).jkt).toBe(client.key.jkt);
    expect(await refusedBecause(verifier, get(token, { scheme: "DPoP", dpop: good }))).toBe(
      "invalid_dpop_proof",
    );
  });

  it("refuses a logged-out token within 1 s through the Redis feed of signed SETs", async () => {
    prefix = uniqueRedisPrefix();
    const { t, verifier } = await setUp({ REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix }, () => ({
      revocations: { redis: { url: SHARED_REDIS_URL }, channel: `${prefix}security-events` },
    }));
    const user = await registerUser(t);
    await verifier.verify(get(user.accessToken));
    expect(verifier.feedHealthy).toBe(true);
    await t.gql("mutation { logout }", { token: user.accessToken });
    await within(
      1000,
      async () => (await refusedBecause(verifier, get(user.accessToken))) === "token_revoked",
    );
  });

  it("ignores feed messages that are not Holdfast-signed session-revoked SETs", async () => {
    prefix = uniqueRedisPrefix();
    const { Redis } = await import("ioredis");
    const { t, verifier } = await setUp({ REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix }, () => ({
      revocations: { redis: { url: SHARED_REDIS_URL }, channel: `${prefix}security-events` },
    }));
    const user = await registerUser(t);
    const { generateKeyPair } = await import("jose");
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT({
      sub_id: { format: "opaque", id: user.session.id },
      events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {} },
    })
      .setProtectedHeader({ alg: "EdDSA", kid: t.server.keys.signingKey().kid, typ: "secevent+jwt" })
      .setIssuer("http://localhost:4000")
      .setAudience("holdfast")
      .setIssuedAt()
      .sign(privateKey);
    const publisher = new Redis(SHARED_REDIS_URL);
    try {
      for (const message of [
        forged,
        "not a jwt",
        JSON.stringify([{ s: user.session.id, u: Date.now() + 1e6 }]),
      ])
        await publisher.publish(`${prefix}security-events`, message);
      // A real revocation of another session, published after them, marks when they have been read.
      const other = await registerUser(t);
      await t.gql("mutation { logout }", { token: other.accessToken });
      await within(5000, async () => verifier.isRevoked(other.session.id));
      expect(await verifier.verify(get(user.accessToken))).toMatchObject({ sessionId: user.session.id });
    } finally {
      publisher.disconnect();
    }
  });

  it("without Redis, refuses a logged-out token after the next poll of the revoked-session list", async () => {
    const { t, verifier } = await setUp({}, (base) => ({
      revocations: {
        poll: {
          url: `${base}/oauth/revoked-sessions`,
          clientId: RS_CLIENT,
          clientSecret: RS_SECRET,
          intervalSeconds: 1,
        },
      },
    }));
    await expectRevokedAfterLogout(t, verifier);
  });

  it("with Redis unreachable, starts anyway and refuses a logged-out token after the next poll", async () => {
    const { t, verifier } = await setUp({}, (base) => ({
      revocations: {
        redis: { url: "redis://127.0.0.1:1" },
        poll: {
          url: `${base}/oauth/revoked-sessions`,
          clientId: RS_CLIENT,
          clientSecret: RS_SECRET,
          intervalSeconds: 1,
        },
      },
    }));
    expect(verifier.feedHealthy).toBe(false);
    await expectRevokedAfterLogout(t, verifier);
  });

  it("refuses (503) by default once the revocation state is older than 60 s", async () => {
    const { t, verifier } = await setUp({}, (base) => ({
      revocations: {
        poll: { url: `${base}/oauth/revoked-sessions`, clientId: RS_CLIENT, clientSecret: RS_SECRET },
      },
    }));
    const user = await registerUser(t);
    await verifier.verify(get(user.accessToken));
    // No poll has answered for 61 s (the clock moves, the 5 s timer has not fired yet).
    t.clock.advanceSeconds(61);
    const refusal = await verifier.verify(get(user.accessToken)).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ reason: "revocation_state_stale", status: 503 });
  });
});
