// Passkeys tried as an attacker would, through the real HTTP server, with a software authenticator
// (test/support/software-authenticator.ts) that can forge each thing a relying party must refuse.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareAuthenticator } from "../support/software-authenticator.js";
import { startTestServer, TEST_PASSWORD } from "../support/test-server.js";
import { type Account, claimsOf, refusal, register, type StepUpWorld, startStepUpWorld } from "./support.js";

const ORIGIN = "http://localhost:4000"; // TEST_ENV's PUBLIC_URL
const SIGN_IN = `mutation($i: PasskeySignInInput!) { passkeySignIn(input: $i) { accessToken refreshToken session { id } user { id } } }`;
const REAUTH = `mutation($k: JSON) { reauthenticate(passkey: $k) { accessToken session { id } } }`;

let w: StepUpWorld;
beforeAll(async () => {
  w = await startStepUpWorld();
});
afterAll(async () => {
  await w?.close();
});

type Options = { challenge: string; rp: { id: string }; user: { id: string } };
type RequestOptions = {
  challenge: string;
  rpId: string;
  userVerification: string;
  allowCredentials?: unknown[];
};

/** A signed-up user with one passkey on `authenticator`. */
async function withPasskey(authenticator = new SoftwareAuthenticator(ORIGIN)) {
  const account = await register(w);
  const options = await w.post<{ passkeyRegistrationOptions: Options }>(
    "mutation { passkeyRegistrationOptions }",
    {
      token: account.accessToken,
    },
  );
  const creation = options.body.data!.passkeyRegistrationOptions;
  const added = await w.post<{
    addPasskey: { id: string; name: string; deviceType: string; backedUp: boolean };
  }>(
    `mutation($r: JSON!, $n: String, $p: String) { addPasskey(response: $r, name: $n, currentPassword: $p) { id name deviceType backedUp } }`,
    {
      token: account.accessToken,
      variables: { r: authenticator.register(creation), n: "Laptop", p: TEST_PASSWORD },
    },
  );
  if (!added.body.data) throw new Error(`addPasskey failed: ${JSON.stringify(added.body.errors)}`);
  return { account, authenticator, passkey: added.body.data.addPasskey, creation };
}

async function signInOptions(world: StepUpWorld = w): Promise<RequestOptions> {
  const res = await world.post<{ passkeySignInOptions: RequestOptions }>("mutation { passkeySignInOptions }");
  return res.body.data!.passkeySignInOptions;
}

const signIn = (response: unknown, world: StepUpWorld = w) =>
  world.post<{ passkeySignIn: { accessToken: string; refreshToken: string | null; user: { id: string } } }>(
    SIGN_IN,
    {
      variables: { i: { response, refreshTokenDelivery: "BODY" } },
    },
  );

describe("passkey registration", () => {
  it("registers a discoverable credential with user verification required, and lists it", async () => {
    const { account, passkey, creation } = await withPasskey(new SoftwareAuthenticator(ORIGIN, true));
    expect(creation.rp.id).toBe("localhost");
    expect(creation).toMatchObject({
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      attestation: "none",
    });
    // The user handle is random, never the account id or email (WebAuthn §14.6.1).
    expect(Buffer.from(creation.user.id, "base64url").toString("utf8")).not.toContain(account.userId);
    expect(passkey).toMatchObject({ name: "Laptop", deviceType: "multiDevice", backedUp: true });
    const list = await w.post<{ passkeys: { id: string }[] }>("{ passkeys { id name } }", {
      token: account.accessToken,
    });
    expect(list.body.data?.passkeys).toEqual([{ id: passkey.id, name: "Laptop" }]);
  });

  it("needs a recent authentication: a stale copied token cannot add the thief's passkey", async () => {
    const account = await register(w);
    w.t.clock.advanceSeconds(w.t.config.stepUp.maxAgeSeconds + 1);
    const res = await w.post("mutation { passkeyRegistrationOptions }", { token: account.accessToken });
    // The access token itself has expired by now too; either way nothing was registered.
    expect(res.status).toBe(401);
    expect(["insufficient_user_authentication", "token_expired"]).toContain(refusal(res)?.reason);
  });

  it("refuses a registration answered for another user's challenge, a reused one and a wrong origin", async () => {
    const alice = await register(w);
    const mallory = await register(w);
    const options = await w.post<{ passkeyRegistrationOptions: Options }>(
      "mutation { passkeyRegistrationOptions }",
      {
        token: alice.accessToken,
      },
    );
    const creation = options.body.data!.passkeyRegistrationOptions;
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    // Each caller proves their own password: what is left to refuse is the registration itself.
    const ADD = `mutation($r: JSON!, $p: String) { addPasskey(response: $r, currentPassword: $p) { id } }`;
    // Mallory answers Alice's challenge: it is not hers (and it is consumed in trying).
    const stolen = await w.post(ADD, {
      token: mallory.accessToken,
      variables: { r: authenticator.register(creation), p: TEST_PASSWORD },
    });
    expect(refusal(stolen)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_passkey_challenge" });
    const reused = await w.post(ADD, {
      token: alice.accessToken,
      variables: { r: authenticator.register(creation), p: TEST_PASSWORD },
    });
    expect(refusal(reused)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_passkey_challenge" });
    const again = (
      await w.post<{ passkeyRegistrationOptions: Options }>("mutation { passkeyRegistrationOptions }", {
        token: alice.accessToken,
      })
    ).body.data!.passkeyRegistrationOptions;
    const phished = await w.post(ADD, {
      token: alice.accessToken,
      variables: {
        r: authenticator.register(again, { origin: "https://holdfast.example.evil" }),
        p: TEST_PASSWORD,
      },
    });
    expect(refusal(phished)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_passkey_registration" });
    expect(
      await w.t.database.prisma.passkey.count({ where: { userId: { in: [alice.userId, mallory.userId] } } }),
    ).toBe(0);
  });
});

describe("passkey sign-in", () => {
  it("signs in with a discoverable passkey: a new session whose tokens say acr phr, amr hwk user", async () => {
    const { account, authenticator } = await withPasskey();
    const res = await signIn(authenticator.assert(await signInOptions()));
    const payload = res.body.data!.passkeySignIn;
    expect(payload.user.id).toBe(account.userId);
    expect(payload.refreshToken).toEqual(expect.any(String));
    expect(claimsOf(payload.accessToken)).toMatchObject({ acr: "phr", amr: ["hwk", "user"] });
    const stored = await w.t.database.prisma.passkey.findMany({ where: { userId: account.userId } });
    expect(stored[0]?.counter).toBe(1);
    expect(stored[0]?.lastUsedAt).not.toBeNull();
  });

  it("refuses a reused challenge: the same assertion twice signs in once", async () => {
    const { authenticator } = await withPasskey();
    const assertion = authenticator.assert(await signInOptions());
    expect((await signIn(assertion)).body.data?.passkeySignIn).toBeTruthy();
    expect(refusal(await signIn(assertion))).toEqual({
      code: "UNAUTHENTICATED",
      reason: "invalid_passkey_challenge",
    });
  });

  it("refuses an expired challenge and a registration challenge used for sign-in", async () => {
    const { authenticator, account } = await withPasskey();
    const options = await signInOptions();
    w.t.clock.advanceSeconds(121);
    expect(refusal(await signIn(authenticator.assert(options)))?.reason).toBe("invalid_passkey_challenge");
    const login = await w.post<{ login: { accessToken: string } }>(
      `mutation($i: LoginInput!) { login(input: $i) { accessToken } }`,
      { variables: { i: { email: account.email, password: "correct horse battery staple" } } },
    );
    const creation = (
      await w.post<{ passkeyRegistrationOptions: Options }>("mutation { passkeyRegistrationOptions }", {
        token: login.body.data!.login.accessToken,
      })
    ).body.data!.passkeyRegistrationOptions;
    const wrongPurpose = authenticator.assert({ challenge: creation.challenge, rpId: "localhost" });
    expect(refusal(await signIn(wrongPurpose))?.reason).toBe("invalid_passkey_challenge");
  });

  it.each([
    ["another origin (a phishing site)", { origin: "https://login.holdfast.example.evil" }],
    ["another RP ID", { rpId: "evil.example" }],
    ["no user verification", { flags: 0x01 }],
    ["a clientData type of webauthn.create", { type: "webauthn.create" }],
  ])("refuses an assertion with %s", async (_name, overrides) => {
    const { authenticator } = await withPasskey();
    const assertion = authenticator.assert(await signInOptions(), undefined, overrides);
    expect(refusal(await signIn(assertion))).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_passkey" });
  });

  it("refuses a counter going backwards (a cloned authenticator), and leaves the stored counter as it was", async () => {
    const { authenticator, account } = await withPasskey();
    expect(
      (await signIn(authenticator.assert(await signInOptions(), undefined, { counter: 10 }))).body.data,
    ).toBeTruthy();
    const clone = await signIn(authenticator.assert(await signInOptions(), undefined, { counter: 7 }));
    expect(refusal(clone)).toEqual({ code: "UNAUTHENTICATED", reason: "passkey_counter_regressed" });
    const equal = await signIn(authenticator.assert(await signInOptions(), undefined, { counter: 10 }));
    expect(refusal(equal)?.reason).toBe("passkey_counter_regressed");
    const stored = await w.t.database.prisma.passkey.findFirst({ where: { userId: account.userId } });
    expect(stored?.counter).toBe(10);
  });

  it("refuses an assertion naming one user's credential with another user's handle or key", async () => {
    const alice = await withPasskey();
    const mallory = await withPasskey();
    const aliceHandle = alice.creation.user.id;
    // Mallory's credential, claiming to be Alice's account.
    const handle = mallory.authenticator.assert(await signInOptions(), undefined, {
      userHandle: aliceHandle,
    });
    expect(refusal(await signIn(handle))).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_passkey" });
    // Alice's credential id, signed with Mallory's key.
    const both = new SoftwareAuthenticator(ORIGIN);
    const first = (await withPasskey(both)).passkey.id;
    await withPasskey(both);
    const second = both.credentialIds.find((id) => id !== first)!;
    const forged = both.assert(await signInOptions(), first, { signWith: second });
    expect(refusal(await signIn(forged))).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_passkey" });
  });

  it("refuses a credential that was removed", async () => {
    const { account, authenticator, passkey } = await withPasskey();
    const removed = await w.post("mutation($id: ID!) { removePasskey(id: $id) }", {
      token: account.accessToken,
      variables: { id: passkey.id },
    });
    expect(removed.body.data).toEqual({ removePasskey: true });
    expect(refusal(await signIn(authenticator.assert(await signInOptions())))?.reason).toBe(
      "invalid_passkey",
    );
  });

  it("does not remove another user's passkey (NOT_FOUND)", async () => {
    const alice = await withPasskey();
    const mallory = await register(w);
    const res = await w.post("mutation($id: ID!) { removePasskey(id: $id) }", {
      token: mallory.accessToken,
      variables: { id: alice.passkey.id },
    });
    expect(refusal(res)?.code).toBe("NOT_FOUND");
    expect(await w.t.database.prisma.passkey.count({ where: { id: alice.passkey.id } })).toBe(1);
  });

  it("accepts on one instance a challenge issued by another (the challenge lives in the shared database)", async () => {
    const { authenticator, account } = await withPasskey();
    const other = await startTestServer({}, { clock: w.t.clock, database: w.t.database as never });
    try {
      const base = await other.listen();
      const assertion = authenticator.assert(await signInOptions());
      const res = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: SIGN_IN,
          variables: { i: { response: assertion, refreshTokenDelivery: "BODY" } },
        }),
      });
      const body = (await res.json()) as { data?: { passkeySignIn?: { user: { id: string } } } };
      expect(body.data?.passkeySignIn?.user.id).toBe(account.userId);
      // …and once only: the first instance no longer has it either.
      expect(refusal(await signIn(assertion))?.reason).toBe("invalid_passkey_challenge");
    } finally {
      await other.close();
    }
  });
});

describe("step-up with a passkey", () => {
  async function staleSession(account: Account) {
    w.t.clock.advanceSeconds(w.t.config.stepUp.maxAgeSeconds + 1);
    const res = await w.post<{ refresh: { accessToken: string } }>(
      `mutation($r: String) { refresh(refreshToken: $r) { accessToken } }`,
      { variables: { r: account.refreshToken } },
    );
    return res.body.data!.refresh.accessToken;
  }

  it("reauthenticates the current session with a passkey: acr phr, and account actions pass", async () => {
    const { account, authenticator } = await withPasskey();
    const stale = await staleSession(account);
    const res = await w.post<{ reauthenticate: { accessToken: string; session: { id: string } } }>(REAUTH, {
      token: stale,
      variables: { k: authenticator.assert(await signInOptions()) },
    });
    const token = res.body.data!.reauthenticate.accessToken;
    expect(res.body.data!.reauthenticate.session.id).toBe(account.sessionId);
    expect(claimsOf(token)).toMatchObject({ sid: account.sessionId, acr: "phr", amr: ["hwk", "user"] });
    expect((await w.post("mutation { logoutEverywhere }", { token })).body.data).toEqual({
      logoutEverywhere: true,
    });
  });

  it("refuses a valid assertion of another user's passkey for this session", async () => {
    const victim = await register(w);
    const mallory = await withPasskey();
    const stale = await staleSession(victim);
    const res = await w.post(REAUTH, {
      token: stale,
      variables: { k: mallory.authenticator.assert(await signInOptions()) },
    });
    expect(refusal(res)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_passkey" });
    const still = await w.post("mutation { logoutEverywhere }", { token: stale });
    expect(refusal(still)?.reason).toBe("insufficient_user_authentication");
  });

  it("refuses a stolen token replaying the owner's earlier reauthenticate", async () => {
    const { account, authenticator } = await withPasskey();
    const stale = await staleSession(account);
    const body = { k: authenticator.assert(await signInOptions()) };
    expect((await w.post(REAUTH, { token: stale, variables: body })).body.data).toBeTruthy();
    // The thief captured the request (token and assertion) and sends it again.
    const replay = await w.post(REAUTH, { token: stale, variables: body });
    expect(refusal(replay)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_passkey_challenge" });
    expect(refusal(await w.post("mutation { logoutEverywhere }", { token: stale }))?.reason).toBe(
      "insufficient_user_authentication",
    );
  });
});
