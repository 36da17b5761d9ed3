import type { AuthPayloadModel } from "../../auth/auth-payload.js";
import { BadUserInputError, UnauthenticatedError } from "../../errors/app-error.js";
import type { UserModel } from "../../users/user-model.js";
import { type GraphQLContext, requireViewer } from "../context.js";
import type { MutationResolvers, QueryResolvers } from "../generated/resolvers-types.js";

function request(context: GraphQLContext) {
  return { client: context.client, jkt: context.proofJkt };
}

async function viewerUser(context: GraphQLContext): Promise<UserModel> {
  const user = await context.services.users.findById(requireViewer(context).userId);
  if (!user) throw new UnauthenticatedError("invalid_token");
  return user;
}

/** COOKIE delivery moves the refresh token into the HttpOnly cookie, as for `login`. */
function deliver(
  payload: AuthPayloadModel,
  delivery: "COOKIE" | "BODY" | null | undefined,
  context: GraphQLContext,
) {
  const answer = { ...payload, session: { ...payload.session, current: true } };
  if (delivery === "BODY") return answer;
  if (payload.refreshToken)
    context.refreshCookie.set(payload.refreshToken, payload.session.absoluteExpiresAt);
  return { ...answer, refreshToken: null };
}

export const passkeyQueries: Pick<QueryResolvers, "passkeys"> = {
  passkeys: (_parent, _args, context) => context.services.passkeys.list(requireViewer(context).userId),
};

export const passkeyMutations: Pick<
  MutationResolvers,
  | "reauthenticate"
  | "passkeyRegistrationOptions"
  | "addPasskey"
  | "passkeySignInOptions"
  | "passkeySignIn"
  | "removePasskey"
> = {
  reauthenticate: (_parent, { password, passkey }, context) => {
    const viewer = requireViewer(context);
    if ((password == null) === (passkey == null)) {
      throw new BadUserInputError("invalid_reauthentication", "Give exactly one of password and passkey");
    }
    const proof = password != null ? { password } : { passkey };
    return context.services.auth.reauthenticate(viewer, proof, request(context)).then((payload) => ({
      ...payload,
      session: { ...payload.session, current: true },
    }));
  },

  passkeyRegistrationOptions: async (_parent, _args, context) => {
    // Each call writes a challenge row: limited per account and per client before it is written.
    await context.services.limits.passkeyRegistration(requireViewer(context).userId, context.client.ip);
    return context.services.passkeys.registrationOptions(await viewerUser(context));
  },

  addPasskey: async (_parent, { response, name, currentPassword, passkeyAssertion }, context) => {
    if (currentPassword != null && passkeyAssertion != null) {
      throw new BadUserInputError(
        "invalid_credential_proof",
        "Give one of currentPassword and passkeyAssertion",
        "currentPassword",
      );
    }
    const user = await viewerUser(context);
    // Proven before the registration's challenge is spent: a refused proof leaves the options usable.
    const proof =
      currentPassword != null
        ? { password: currentPassword }
        : passkeyAssertion != null
          ? { passkey: passkeyAssertion }
          : null;
    await context.services.auth.proveHolder(user, proof, context.client);
    return context.services.passkeys.add(user, response, name, context.client);
  },

  passkeySignInOptions: async (_parent, _args, context) => {
    // Each call writes a challenge row: limited per client like registrations.
    await context.services.limits.passkeyChallenge(context.client.ip);
    return context.services.passkeys.signInOptions();
  },

  passkeySignIn: async (_parent, { input }, context) =>
    deliver(
      await context.services.auth.signInWithPasskey(
        { response: input.response, scopes: input.scopes },
        request(context),
      ),
      input.refreshTokenDelivery,
      context,
    ),

  removePasskey: (_parent, { id }, context) =>
    context.services.passkeys.remove(requireViewer(context).userId, id, context.client),
};
