// The revocation feed other services read: every revocation as a signed Security Event Token
// (RFC 8417) of the CAEP session-revoked type, on <REDIS_KEY_PREFIX>security-events.
import { Redis } from "ioredis";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import { SoftwareAuthenticator } from "../support/software-authenticator.js";
import { registerUser, startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";
import { OAUTH_TEST_ENV, postForm } from "./oauth-support.js";

const CREDENTIAL_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

let t: TestServer | undefined;
let subscriber: Redis | undefined;
let prefix: string | undefined;
afterEach(async () => {
  subscriber?.disconnect();
  await t?.close();
  if (prefix) await clearRedisPrefix(prefix);
  t = subscriber = prefix = undefined;
});

async function listen(): Promise<{ t: TestServer; next: () => Promise<string> }> {
  prefix = uniqueRedisPrefix();
  t = await startTestServer({ ...OAUTH_TEST_ENV, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix });
  subscriber = new Redis(SHARED_REDIS_URL);
  const queue: string[] = [];
  const waiting: ((message: string) => void)[] = [];
  subscriber.on("message", (_channel: string, message: string) => {
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  await subscriber.subscribe(`${prefix}security-events`);
  const next = () =>
    new Promise<string>((resolve) => {
      const queued = queue.shift();
      if (queued !== undefined) resolve(queued);
      else waiting.push(resolve);
    });
  return { t, next };
}

describe("the security event feed", () => {
  it("publishes a logout as a CAEP session-revoked SET, signed with the token keys", async () => {
    const { t, next } = await listen();
    const user = await registerUser(t);
    await t.gql("mutation { logout }", { token: user.accessToken });
    const set = await next();

    expect(decodeProtectedHeader(set)).toMatchObject({ typ: "secevent+jwt", alg: "EdDSA" });
    const { payload } = await jwtVerify(set, createLocalJWKSet(t.server.keys.jwks() as never), {
      issuer: "http://localhost:4000",
      audience: "holdfast",
      typ: "secevent+jwt",
      algorithms: ["EdDSA"],
      currentDate: t.clock.now(),
    });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.sub_id).toEqual({ format: "opaque", id: user.session.id });
    const event = (payload.events as Record<string, { event_timestamp: number; tokens_expire_by: number }>)[
      SESSION_REVOKED
    ];
    expect(event?.event_timestamp).toBe(Math.floor(t.clock.now().getTime() / 1000));
    // Remembered until every access token of the session has expired by itself.
    expect(event!.tokens_expire_by).toBeGreaterThanOrEqual(Math.floor(Date.parse(user.expiresAt) / 1000));
    // RFC 8417 §4.1: no `exp`/`sub` that could make the SET pass for an access token.
    expect(payload.exp).toBeUndefined();
    expect(payload.sub).toBeUndefined();
  });

  it("publishes one SET per session for logoutEverywhere and for /oauth/revoke", async () => {
    const { t, next } = await listen();
    const user = await registerUser(t);
    const second = await t.gql<{ login: { accessToken: string; session: { id: string } } }>(
      `mutation { login(input: { email: "${user.user.email}", password: "correct horse battery staple" }) { accessToken session { id } } }`,
    );
    await t.gql("mutation { logoutEverywhere }", { token: user.accessToken });
    const ids = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const set = await next();
      ids.add(
        (JSON.parse(Buffer.from(set.split(".")[1]!, "base64url").toString()) as { sub_id: { id: string } })
          .sub_id.id,
      );
    }
    expect(ids).toEqual(new Set([user.session.id, second.body.data!.login.session.id]));

    const other = await registerUser(t);
    await postForm(t, "/oauth/revoke", { token: other.refreshToken! });
    const set = await next();
    expect(JSON.parse(Buffer.from(set.split(".")[1]!, "base64url").toString()).sub_id.id).toBe(
      other.session.id,
    );
  });

  it("announces a new passkey as a signed CAEP credential-change SET about the account", async () => {
    const { t, next } = await listen();
    const user = await registerUser(t);
    const options = await t.gql<{ passkeyRegistrationOptions: never }>(
      "mutation { passkeyRegistrationOptions }",
      {
        token: user.accessToken,
      },
    );
    const added = await t.gql(
      'mutation($r: JSON!, $p: String) { addPasskey(response: $r, name: "Key", currentPassword: $p) { id } }',
      {
        token: user.accessToken,
        variables: {
          r: new SoftwareAuthenticator("http://localhost:4000").register(
            options.body.data!.passkeyRegistrationOptions,
          ),
          p: TEST_PASSWORD,
        },
      },
    );
    expect(added.body.errors).toBeUndefined();
    const { payload } = await jwtVerify(await next(), createLocalJWKSet(t.server.keys.jwks() as never), {
      issuer: "http://localhost:4000",
      audience: "holdfast",
      typ: "secevent+jwt",
      algorithms: ["EdDSA"],
      currentDate: t.clock.now(),
    });
    expect(payload.sub_id).toEqual({ format: "iss_sub", iss: "http://localhost:4000", sub: user.user.id });
    expect((payload.events as Record<string, unknown>)[CREDENTIAL_CHANGE]).toMatchObject({
      change_type: "create",
      credential_type: expect.stringMatching(/^fido2-/),
      friendly_name: "Key",
    });
  });
});
