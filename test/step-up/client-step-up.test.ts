// The client SDK against the real server: on `insufficient_user_authentication` it asks the app
// (onStepUpRequired), re-authenticates the current session, and retries the operation once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createHoldfastClient,
  createMemoryRefreshTokenStore,
  type HoldfastClient,
  HoldfastClientError,
  type StepUpAnswer,
  type StepUpChallenge,
  typedDocument,
  type WebAuthnCeremonies,
} from "../../src/client/index.js";
import { SoftwareAuthenticator } from "../support/software-authenticator.js";
import { TEST_PASSWORD } from "../support/test-server.js";
import { type StepUpWorld, startStepUpWorld } from "./support.js";

const ChangePassword = typedDocument<{ changePassword: boolean }, { current: string; next: string }>(
  "ChangePassword",
  "mutation ChangePassword($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }",
);

let w: StepUpWorld;
beforeAll(async () => {
  w = await startStepUpWorld();
});
afterAll(async () => {
  await w?.close();
});

function softwareWebAuthn(authenticator: SoftwareAuthenticator): WebAuthnCeremonies {
  return {
    create: async (options) => authenticator.register(options as never),
    get: async (options) => authenticator.assert(options as never),
  };
}

function client(options: {
  answer?: StepUpAnswer | null;
  asked?: StepUpChallenge[];
  authenticator?: SoftwareAuthenticator;
}): HoldfastClient {
  return createHoldfastClient({
    baseUrl: w.base,
    // PUBLIC_URL names another host than the test socket, so proofs would not match their htu.
    dpop: false,
    refreshTokenStore: createMemoryRefreshTokenStore(),
    ...(options.authenticator ? { webauthn: softwareWebAuthn(options.authenticator) } : {}),
    ...(options.answer !== undefined
      ? {
          onStepUpRequired: async (challenge: StepUpChallenge) => {
            options.asked?.push(challenge);
            return options.answer ?? null;
          },
        }
      : {}),
  });
}

let n = 0;
const email = () => `sdk${++n}-${process.pid}-${Date.now()}@example.com`;
const waitOutStepUpWindow = () => w.t.clock.advanceSeconds(w.t.config.stepUp.maxAgeSeconds + 1);

describe("client step-up", () => {
  it("asks the app for a password, re-authenticates the session and retries the operation once", async () => {
    const asked: StepUpChallenge[] = [];
    const c = client({ answer: { password: TEST_PASSWORD }, asked });
    const signedIn = await c.register({ email: email(), password: TEST_PASSWORD, displayName: "SDK" });
    waitOutStepUpWindow();
    const result = await c.request(ChangePassword, {
      current: TEST_PASSWORD,
      next: "the next long passphrase",
    });
    expect(result).toEqual({ data: { changePassword: true } });
    expect(asked).toEqual([{ maxAge: w.t.config.stepUp.maxAgeSeconds }]);
    // Same session all along: step-up raised it rather than starting another.
    expect(c.state().sessionId).toBe(signedIn.sessionId);
    c.destroy();
  });

  it("surfaces the refusal when the app declines (no retry, no re-authentication)", async () => {
    const asked: StepUpChallenge[] = [];
    const c = client({ answer: null, asked });
    await c.register({ email: email(), password: TEST_PASSWORD, displayName: "SDK" });
    waitOutStepUpWindow();
    const error = await c
      .request(ChangePassword, { current: TEST_PASSWORD, next: "x long passphrase" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(HoldfastClientError);
    expect(error).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "insufficient_user_authentication",
      status: 401,
    });
    expect(asked).toHaveLength(1);
    expect(c.state().authenticated).toBe(true);
    c.destroy();
  });

  it("adds a passkey, steps up with it later, and signs in with it from another client", async () => {
    const authenticator = new SoftwareAuthenticator("http://localhost:4000");
    const asked: StepUpChallenge[] = [];
    const owner = client({ answer: { passkey: true }, asked, authenticator });
    const account = await owner.register({ email: email(), password: TEST_PASSWORD, displayName: "Key" });
    const added = await owner.addPasskey({ name: "Software key", proof: { password: TEST_PASSWORD } });
    expect(added).toMatchObject({ name: "Software key", deviceType: "singleDevice", backedUp: false });
    expect((await owner.passkeys()).map((p) => p.id)).toEqual([added.id]);
    waitOutStepUpWindow();
    expect(
      await owner.request(ChangePassword, { current: TEST_PASSWORD, next: "passkey protected phrase" }),
    ).toEqual({ data: { changePassword: true } });
    expect(asked).toHaveLength(1);

    const other = client({ authenticator });
    const session = await other.signInWithPasskey();
    expect(session.user.id).toBe(account.user.id);
    expect(other.state().authenticated).toBe(true);
    owner.destroy();
    other.destroy();
  });
});
