import { type ClientCore, sessionInfoOf } from "./client-core.js";
import type { HoldfastClient, SessionInfo } from "./client-types.js";
import { errorOf } from "./graphql-exchange.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import type { AuthPayloadFields } from "./operations.js";
import type { PasskeyInfo, StepUpAnswer, StepUpChallenge, WebAuthnCeremonies } from "./passkey-types.js";

const AUTH_PAYLOAD =
  "accessToken tokenType expiresAt scopes refreshToken session { id } user { id displayName email }";
const PASSKEY = "id name createdAt lastUsedAt deviceType backedUp";

const SIGN_IN_OPTIONS = "mutation PasskeySignInOptions { passkeySignInOptions }";
const SIGN_IN = `mutation PasskeySignIn($input: PasskeySignInInput!) { passkeySignIn(input: $input) { ${AUTH_PAYLOAD} } }`;
const REGISTRATION_OPTIONS = "mutation PasskeyRegistrationOptions { passkeyRegistrationOptions }";
const ADD = `mutation AddPasskey($response: JSON!, $name: String, $currentPassword: String, $passkeyAssertion: JSON) { addPasskey(response: $response, name: $name, currentPassword: $currentPassword, passkeyAssertion: $passkeyAssertion) { ${PASSKEY} } }`;
const LIST = `query Passkeys { passkeys { ${PASSKEY} } }`;
const REMOVE = "mutation RemovePasskey($id: ID!) { removePasskey(id: $id) }";
const REAUTHENTICATE = `mutation Reauthenticate($password: String, $passkey: JSON) { reauthenticate(password: $password, passkey: $passkey) { ${AUTH_PAYLOAD} } }`;

type PasskeyMethods = Pick<
  HoldfastClient,
  "signInWithPasskey" | "addPasskey" | "passkeys" | "removePasskey" | "reauthenticate"
>;

interface PasskeyRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  deviceType: string;
  backedUp: boolean;
}

const toInfo = (row: PasskeyRow): PasskeyInfo =>
  Object.freeze({
    ...row,
    createdAt: new Date(row.createdAt),
    lastUsedAt: row.lastUsedAt ? new Date(row.lastUsedAt) : null,
  });

/**
 * Passkeys and step-up (RFC 9470). Registers the core's step-up handler: when an operation is
 * refused with `insufficient_user_authentication`, the app's `onStepUpRequired` answers (password
 * or passkey), the current session is re-authenticated, and the operation is retried once.
 */
export function passkeyOperations(core: ClientCore): PasskeyMethods {
  const delivery = core.refreshTokenStore ? "BODY" : "COOKIE";

  function ceremonies(): WebAuthnCeremonies {
    const webauthn = core.options.webauthn;
    if (!webauthn) throw new HoldfastClientError("WEBAUTHN_UNAVAILABLE", "No WebAuthn in this environment");
    return webauthn;
  }

  /** Runs an operation with the session's token and returns `field`, or throws its error. */
  async function run<T>(query: string, field: string, variables: Record<string, unknown> = {}): Promise<T> {
    core.assertAlive();
    const exchange = await core.execute({ query, variables });
    const value = exchange.body?.data?.[field];
    if (value === undefined || value === null || exchange.body?.errors?.length) throw errorOf(exchange);
    return value as T;
  }

  /** An assertion for a fresh `passkeySignInOptions` challenge. */
  async function assertion(): Promise<unknown> {
    const exchange = await core.transport.send({ query: SIGN_IN_OPTIONS }, null, false);
    const options = exchange.body?.data?.passkeySignInOptions;
    if (!options || exchange.body?.errors?.length) throw errorOf(exchange);
    return ceremonies().get(options);
  }

  async function reauthenticate(answer: StepUpAnswer): Promise<SessionInfo> {
    core.assertAlive();
    const startEpoch = core.session.epoch;
    const variables = "password" in answer ? { password: answer.password } : { passkey: await assertion() };
    const token = await core.tokenForRequest();
    if (!token)
      throw new HoldfastClientError("UNAUTHENTICATED", "Not signed in", {
        reason: "authentication_required",
      });
    const exchange = await core.transport.send({ query: REAUTHENTICATE, variables }, token, false);
    const payload = exchange.body?.data?.reauthenticate as AuthPayloadFields | null | undefined;
    if (!payload || exchange.body?.errors?.length) throw errorOf(exchange);
    // Same session, fresh access token: adopted like a refresh (no refresh token comes with it).
    return sessionInfoOf(payload, await core.session.adopt(payload, exchange, startEpoch));
  }

  core.setStepUpHandler(async (extensions) => {
    const ask = core.options.onStepUpRequired;
    if (!ask) return false;
    const challenge: StepUpChallenge = {
      ...(typeof extensions.maxAge === "number" ? { maxAge: extensions.maxAge } : {}),
      ...(Array.isArray(extensions.acrValues) ? { acrValues: extensions.acrValues as string[] } : {}),
    };
    const answer = await ask(challenge);
    if (!answer) return false;
    await reauthenticate(answer);
    return true;
  });

  return {
    async signInWithPasskey(options = {}) {
      core.assertAlive();
      const response = await assertion();
      const input = {
        response,
        ...(options.scopes ? { scopes: [...options.scopes] } : {}),
        refreshTokenDelivery: delivery,
      };
      return core.authenticate(
        { query: SIGN_IN, operationName: "PasskeySignIn", variables: { input } },
        "passkeySignIn",
      );
    },
    async addPasskey({ name, proof }) {
      // The existing passkey's assertion first: two ceremonies, each on its own fresh challenge.
      const proven =
        "password" in proof ? { currentPassword: proof.password } : { passkeyAssertion: await assertion() };
      const options = await run<unknown>(REGISTRATION_OPTIONS, "passkeyRegistrationOptions");
      const response = await ceremonies().create(options);
      return toInfo(
        await run<PasskeyRow>(ADD, "addPasskey", { response, ...(name ? { name } : {}), ...proven }),
      );
    },
    async passkeys() {
      return (await run<PasskeyRow[]>(LIST, "passkeys")).map(toInfo);
    },
    async removePasskey(id) {
      return run<boolean>(REMOVE, "removePasskey", { id });
    },
    reauthenticate,
  };
}
