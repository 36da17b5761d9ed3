import type { ClientCore } from "./client-core.js";
import type { HoldfastClient } from "./client-types.js";
import { HoldfastClientError } from "./holdfast-client-error.js";
import { LoginDocument, LogoutDocument, LogoutEverywhereDocument, RegisterDocument } from "./operations.js";

type SessionMethods = Pick<
  HoldfastClient,
  "login" | "register" | "logout" | "logoutEverywhere" | "refresh" | "resume" | "state"
>;

/** Signing in and out, resuming a session, and what the client tells about it. */
export function sessionOperations(core: ClientCore): SessionMethods {
  const { session, refresher, refreshTokenStore } = core;
  const delivery = refreshTokenStore ? "BODY" : "COOKIE";

  async function endSession(
    document: typeof LogoutDocument | typeof LogoutEverywhereDocument,
    variables: Record<string, unknown> = {},
  ): Promise<boolean> {
    core.assertAlive();
    if (!session.current) await resume().catch(() => false);
    const sessionId = session.current?.sessionId ?? null;
    core.logoutStarting();
    let confirmed = false;
    if (session.current) {
      try {
        const exchange = await core.execute(
          { query: document.query, operationName: document.operationName, variables },
          false,
        );
        const data = exchange.body?.data ?? {};
        confirmed = data.logout === true || data.logoutEverywhere === true;
      } catch {
        // Logged out here whatever the network says; the caller learns the server part from `false`.
      }
    }
    if (refreshTokenStore) await refreshTokenStore.set(null).catch(() => undefined);
    session.endLocally(sessionId);
    return confirmed;
  }

  async function resume(): Promise<boolean> {
    core.assertAlive();
    if (session.current) return true;
    if (refreshTokenStore && !(await refreshTokenStore.get())) return false;
    try {
      await refresher.refresh(null, "forced");
      return true;
    } catch (error) {
      if (error instanceof HoldfastClientError && error.code === "SESSION_LOST") return false;
      throw error;
    }
  }

  function state(): ReturnType<HoldfastClient["state"]> {
    const s = session.current;
    return Object.freeze({
      authenticated: s !== null,
      expiresAt: s ? new Date(s.expiresAt) : null,
      scopes: s ? s.scopes : Object.freeze([]),
      sessionId: s ? s.sessionId : null,
    });
  }

  return {
    login(credentials) {
      const input = {
        email: credentials.email,
        password: credentials.password,
        ...(credentials.scopes ? { scopes: [...credentials.scopes] } : {}),
        refreshTokenDelivery: delivery,
      };
      return core.authenticate(
        { query: LoginDocument.query, operationName: LoginDocument.operationName, variables: { input } },
        "login",
      );
    },
    register(details) {
      const input = {
        email: details.email,
        password: details.password,
        displayName: details.displayName,
        refreshTokenDelivery: delivery,
      };
      return core.authenticate(
        {
          query: RegisterDocument.query,
          operationName: RegisterDocument.operationName,
          variables: { input },
        },
        "register",
      );
    },
    logout: () => endSession(LogoutDocument),
    logoutEverywhere: (options = {}) =>
      endSession(
        LogoutEverywhereDocument,
        options.removePasskeysAddedWithinDays
          ? { removePasskeysAddedWithinDays: options.removePasskeysAddedWithinDays }
          : {},
      ),
    async refresh() {
      core.assertAlive();
      await refresher.refresh(session.current, "forced");
      return state();
    },
    resume,
    state,
  };
}
