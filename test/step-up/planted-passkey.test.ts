// Adding a credential proves a credential: a fresh token (copied, or used by a script in the page
// with the session's DPoP key) proves the owner signed in recently, not that the caller is the
// owner. Through the real HTTP server, Bearer and DPoP, with a software authenticator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DpopClient, dpopClient, uniqueEmail } from "../dpop/dpop-client.js";
import { SoftwareAuthenticator } from "../support/software-authenticator.js";
import { TEST_PASSWORD } from "../support/test-server.js";
import { type HttpResult, refusal, type StepUpWorld, startStepUpWorld } from "./support.js";

const ORIGIN = "http://localhost:4000"; // TEST_ENV's PUBLIC_URL
const ADD = `mutation($r: JSON!, $n: String, $p: String, $a: JSON) {
  addPasskey(response: $r, name: $n, currentPassword: $p, passkeyAssertion: $a) { id name } }`;
const SIGN_IN = `mutation($i: PasskeySignInInput!) { passkeySignIn(input: $i) { accessToken user { id } } }`;
const AUTH = "accessToken refreshToken session { id } user { id }";
type Auth = { accessToken: string; refreshToken: string; session: { id: string }; user: { id: string } };

let w: StepUpWorld;
beforeAll(async () => {
  w = await startStepUpWorld({
    RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "1000000",
    RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  });
});
afterAll(async () => {
  await w?.close();
});

/** One way of holding a session's token: a Bearer token, or a DPoP-bound one with its key. */
interface Door {
  readonly name: string;
  /** A key for the session (DPoP) or none (Bearer). */
  key(): Promise<DpopClient | null>;
}
const doors: Door[] = [
  { name: "Bearer", key: async () => null },
  { name: "DPoP", key: () => dpopClient(w.t) },
];

/** Sends as the holder of `token`, with a fresh proof of `key` when the session is bound. */
async function as<T>(
  key: DpopClient | null,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = key ? await key.headers(token ?? undefined) : {};
  if (token) headers.authorization = `${key ? "DPoP" : "Bearer"} ${token}`;
  return w.post<T>(query, { variables, headers });
}

async function signUp(key: DpopClient | null): Promise<Auth & { email: string }> {
  const email = uniqueEmail();
  const res = await as<{ register: Auth }>(
    key,
    null,
    `mutation($i: RegisterInput!) { register(input: $i) { ${AUTH} } }`,
    { i: { email, password: TEST_PASSWORD, displayName: "Owner", refreshTokenDelivery: "BODY" } },
  );
  if (!res.body.data) throw new Error(`register failed: ${JSON.stringify(res.body.errors)}`);
  return { ...res.body.data.register, email };
}

/** passkeyRegistrationOptions then addPasskey with `proof`, for `authenticator`. */
async function addPasskey(
  key: DpopClient | null,
  token: string,
  authenticator: SoftwareAuthenticator,
  proof: { p?: string; a?: unknown },
) {
  const options = await as<{ passkeyRegistrationOptions: never }>(
    key,
    token,
    "mutation { passkeyRegistrationOptions }",
  );
  const creation = options.body.data!.passkeyRegistrationOptions;
  return as<{ addPasskey: { id: string } }>(key, token, ADD, {
    r: authenticator.register(creation),
    n: "Planted",
    ...proof,
  });
}

async function signInWith(authenticator: SoftwareAuthenticator) {
  const options = await w.post<{ passkeySignInOptions: never }>("mutation { passkeySignInOptions }");
  return w.post<{ passkeySignIn: { user: { id: string } } }>(SIGN_IN, {
    variables: {
      i: {
        response: authenticator.assert(options.body.data!.passkeySignInOptions),
        refreshTokenDelivery: "BODY",
      },
    },
  });
}

async function passkeyIds(key: DpopClient | null, token: string): Promise<string[]> {
  const res = await as<{ passkeys: { id: string }[] }>(key, token, "{ passkeys { id } }");
  return res.body.data!.passkeys.map((p) => p.id);
}

describe.each(doors)("adding a passkey with a $name session", (door) => {
  it("refuses a fresh token without the password or an existing passkey: no passkey is planted", async () => {
    const key = await door.key();
    const owner = await signUp(key);
    const thief = new SoftwareAuthenticator(ORIGIN);

    const bare = await addPasskey(key, owner.accessToken, thief, {});
    expect(refusal(bare)).toEqual({ code: "BAD_USER_INPUT", reason: "credential_proof_required" });
    const guessed = await addPasskey(key, owner.accessToken, thief, { p: "not the password at all" });
    expect(refusal(guessed)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_current_password" });
    expect(await passkeyIds(key, owner.accessToken)).toEqual([]);
    // Nothing to sign in with.
    expect(refusal(await signInWith(thief))).toMatchObject({ code: "UNAUTHENTICATED" });

    const proven = await addPasskey(key, owner.accessToken, new SoftwareAuthenticator(ORIGIN), {
      p: TEST_PASSWORD,
    });
    expect(proven.body.errors).toBeUndefined();
    expect(await passkeyIds(key, owner.accessToken)).toEqual([proven.body.data!.addPasskey.id]);
  });

  it("accepts an assertion of the owner's own passkey, and refuses another account's", async () => {
    const key = await door.key();
    const owner = await signUp(key);
    const device = new SoftwareAuthenticator(ORIGIN);
    await addPasskey(key, owner.accessToken, device, { p: TEST_PASSWORD });

    const stranger = await signUp(null);
    const strangerDevice = new SoftwareAuthenticator(ORIGIN);
    await addPasskey(null, stranger.accessToken, strangerDevice, { p: TEST_PASSWORD });
    const assertFor = async (authenticator: SoftwareAuthenticator) => {
      const options = await w.post<{ passkeySignInOptions: never }>("mutation { passkeySignInOptions }");
      return authenticator.assert(options.body.data!.passkeySignInOptions);
    };

    const foreign = await addPasskey(key, owner.accessToken, new SoftwareAuthenticator(ORIGIN), {
      a: await assertFor(strangerDevice),
    });
    expect(refusal(foreign)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_passkey_assertion" });
    const own = await addPasskey(key, owner.accessToken, new SoftwareAuthenticator(ORIGIN), {
      a: await assertFor(device),
    });
    expect(own.body.errors).toBeUndefined();
    expect(await passkeyIds(key, owner.accessToken)).toHaveLength(2);
  });

  it("announces a new passkey in the audit log", async () => {
    const key = await door.key();
    const owner = await signUp(key);
    await addPasskey(key, owner.accessToken, new SoftwareAuthenticator(ORIGIN), { p: TEST_PASSWORD });
    const added = await w.t.database.prisma.auditEvent.findMany({
      where: { userId: owner.user.id, type: "passkey.added" },
    });
    expect(added).toHaveLength(1);
  });
});

describe.each(doors)("recovering from a planted passkey, $name session", (door) => {
  /** The owner's passkey from days ago, then a fresh sign-in whose token a thief used to plant one. */
  async function plantedScenario() {
    const key = await door.key();
    const owner = await signUp(key);
    const ownDevice = new SoftwareAuthenticator(ORIGIN);
    await addPasskey(key, owner.accessToken, ownDevice, { p: TEST_PASSWORD });
    w.t.clock.advanceSeconds(3 * 86_400);
    const login = await as<{ login: Auth }>(
      key,
      null,
      `mutation($i: LoginInput!) { login(input: $i) { ${AUTH} } }`,
      { i: { email: owner.email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
    );
    const fresh = login.body.data!.login;
    // The thief also phished the password once: the case the owner's recovery must still cover.
    const thiefDevice = new SoftwareAuthenticator(ORIGIN);
    const planted = await addPasskey(key, fresh.accessToken, thiefDevice, { p: TEST_PASSWORD });
    expect(planted.body.errors).toBeUndefined();
    expect(await signInWith(thiefDevice)).toMatchObject({ status: 200 });
    return { key, owner, fresh, ownDevice, thiefDevice };
  }

  it("a password change removing passkeys added in the last day drops the thief's: its sign-in fails", async () => {
    const { key, owner, fresh, ownDevice, thiefDevice } = await plantedScenario();
    const changed = await as<{ changePassword: boolean }>(
      key,
      fresh.accessToken,
      `mutation($c: String!, $n: String!, $d: Int) {
        changePassword(currentPassword: $c, newPassword: $n, removePasskeysAddedWithinDays: $d) }`,
      { c: TEST_PASSWORD, n: "a brand new passphrase", d: 1 },
    );
    expect(changed.body).toEqual({ data: { changePassword: true } });

    expect(refusal(await signInWith(thiefDevice))).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_passkey",
    });
    // The owner's own passkey, older than a day, stays.
    const ownSignIn = await signInWith(ownDevice);
    expect(ownSignIn.body.data?.passkeySignIn.user.id).toBe(owner.user.id);
    const removed = await w.t.database.prisma.auditEvent.count({
      where: { userId: owner.user.id, type: "passkey.removed" },
    });
    expect(removed).toBe(1);
  });

  it("log out everywhere removing passkeys added in the last day drops the thief's too", async () => {
    const { key, fresh, ownDevice, thiefDevice } = await plantedScenario();
    const ended = await as<{ logoutEverywhere: boolean }>(
      key,
      fresh.accessToken,
      "mutation($d: Int) { logoutEverywhere(removePasskeysAddedWithinDays: $d) }",
      { d: 1 },
    );
    expect(ended.body).toEqual({ data: { logoutEverywhere: true } });
    expect(refusal(await signInWith(thiefDevice))).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_passkey",
    });
    expect((await signInWith(ownDevice)).body.errors).toBeUndefined();
  });

  it("refuses a day count that is not a whole number from 1, before changing anything", async () => {
    const key = await door.key();
    const owner = await signUp(key);
    const res = await as<{ logoutEverywhere: boolean }>(
      key,
      owner.accessToken,
      "mutation { logoutEverywhere(removePasskeysAddedWithinDays: 0) }",
    );
    expect(refusal(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_days" });
    expect((await as<{ me: unknown }>(key, owner.accessToken, "{ me { id } }")).body.data?.me).not.toBeNull();
  });
});
