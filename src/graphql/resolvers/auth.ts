import type { AuthPayloadModel } from "../../auth/auth-payload.js";
import {
  decideSessionEnding,
  type EndingIntent,
  sessionEndingRefused,
} from "../../auth/sessions/session-ending-rule.js";
import type { Viewer } from "../../auth/viewer.js";
import { BadUserInputError, UnauthenticatedError } from "../../errors/app-error.js";
import { type GraphQLContext, requireViewer } from "../context.js";
import type { MutationResolvers, QueryResolvers, SessionResolvers } from "../generated/resolvers-types.js";

/** COOKIE delivery moves the refresh token out of the body into the HttpOnly cookie. */
function deliver(
  payload: AuthPayloadModel,
  delivery: "COOKIE" | "BODY" | null | undefined,
  context: GraphQLContext,
): AuthPayloadModel {
  const answer = { ...payload, session: { ...payload.session, current: true } };
  if (delivery === "BODY") return answer;
  if (payload.refreshToken)
    context.refreshCookie.set(payload.refreshToken, payload.session.absoluteExpiresAt);
  return { ...answer, refreshToken: null };
}

/** `removePasskeysAddedWithinDays`, checked before anything is changed: a whole number of days. */
function recentPasskeyDays(days: number | null | undefined): number | null {
  if (days == null) return null;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new BadUserInputError(
      "invalid_days",
      "removePasskeysAddedWithinDays must be a whole number from 1 to 3650",
      "removePasskeysAddedWithinDays",
    );
  }
  return days;
}

/** The session-ending rule, the same one `POST /oauth/revoke` asks: refused unless it ends a session. */
function mayEnd(viewer: Viewer, intent: EndingIntent): void {
  const ending = decideSessionEnding({ kind: "access_token", scopes: viewer.scopes }, intent);
  if (ending !== "session" && ending !== "every_session") throw sessionEndingRefused();
}

function request(context: GraphQLContext) {
  return { client: context.client, jkt: context.proofJkt };
}

export const authMutations: Pick<
  MutationResolvers,
  | "register"
  | "login"
  | "refresh"
  | "logout"
  | "logoutEverywhere"
  | "revokeSession"
  | "changePassword"
  | "narrowToken"
> = {
  register: async (_parent, { input }, context) =>
    deliver(
      await context.services.auth.register(input, request(context)),
      input.refreshTokenDelivery,
      context,
    ),

  login: async (_parent, { input }, context) =>
    deliver(await context.services.auth.login(input, request(context)), input.refreshTokenDelivery, context),

  refresh: async (_parent, { refreshToken }, context) => {
    // The argument wins; the cookie is read here and nowhere else.
    const fromArgument = refreshToken != null;
    const token = refreshToken ?? context.refreshCookie.read();
    if (!token) throw new UnauthenticatedError("invalid_refresh_token", "No refresh token");
    try {
      const payload = await context.services.auth.refresh(token, request(context));
      return deliver(payload, fromArgument ? "BODY" : "COOKIE", context);
    } catch (error) {
      // A dead cookie is useless to keep; the browser drops it.
      if (!fromArgument && error instanceof UnauthenticatedError) context.refreshCookie.clear();
      throw error;
    }
  },

  logout: async (_parent, _args, context) => {
    const viewer = requireViewer(context);
    mayEnd(viewer, "end_session");
    context.refreshCookie.clear();
    return context.services.sessions.revoke({
      sessionId: viewer.sessionId,
      actorUserId: viewer.userId,
      asAdmin: false,
      reason: "logout",
      client: context.client,
    });
  },

  logoutEverywhere: async (_parent, { removePasskeysAddedWithinDays }, context) => {
    const viewer = requireViewer(context);
    mayEnd(viewer, "end_every_session");
    const days = recentPasskeyDays(removePasskeysAddedWithinDays);
    // The passkeys first: a thief's planted passkey must not outlive the sessions it would restart.
    if (days !== null) await context.services.passkeys.removeAddedWithin(viewer.userId, days, context.client);
    context.refreshCookie.clear();
    await context.services.sessions.revokeAllForUser({
      userId: viewer.userId,
      reason: "logout_everywhere",
      client: context.client,
    });
    return true;
  },

  revokeSession: (_parent, { id }, context) => {
    const viewer = requireViewer(context);
    mayEnd(viewer, "end_session");
    return context.services.sessions.revoke({
      sessionId: id,
      actorUserId: viewer.userId,
      asAdmin: viewer.scopes.has("sessions:admin"),
      reason: "revoked",
      client: context.client,
    });
  },

  changePassword: async (
    _parent,
    { currentPassword, newPassword, removePasskeysAddedWithinDays },
    context,
  ) => {
    const viewer = requireViewer(context);
    const days = recentPasskeyDays(removePasskeysAddedWithinDays);
    await context.services.auth.changePassword(viewer, currentPassword, newPassword, context.client);
    // Only once the current password was right: a thief cannot use this to remove the owner's passkeys.
    if (days !== null) await context.services.passkeys.removeAddedWithin(viewer.userId, days, context.client);
    return true;
  },

  narrowToken: (_parent, { scopes, expiresInSeconds }, context) =>
    context.services.auth.narrowToken(requireViewer(context), scopes, expiresInSeconds),
};

export const sessionQueries: Pick<QueryResolvers, "sessions"> = {
  sessions: (_parent, _args, context) => context.services.sessions.listForUser(requireViewer(context).userId),
};

export const Session: SessionResolvers = {
  current: (session, _args, { viewer }) => session.current ?? viewer?.sessionId === session.id,
  boundToKey: (session) => session.jkt !== null,
};
