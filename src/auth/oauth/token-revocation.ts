import { NotFoundError, UnauthenticatedError } from "../../errors/app-error.js";
import type { ClientInfo } from "../auth-payload.js";
import type { TokenVerifier } from "../authenticate.js";
import { decideSessionEnding, type EndingCredential } from "../sessions/session-ending-rule.js";
import type { SessionService } from "../sessions/session-service.js";
import { findRefreshToken } from "./refresh-token-lookup.js";

export interface RevocationDeps {
  readonly tokens: TokenVerifier;
  readonly prisma: Parameters<typeof findRefreshToken>[0];
  readonly sessions: Pick<SessionService, "revoke" | "tokens">;
  /** Verifies the request's DPoP proof for this endpoint; resolves to the key's thumbprint. */
  readonly proof: (input: { accessToken?: string; expectedJkt: string }) => Promise<{ jkt: string }>;
}

export interface RevocationRequest {
  readonly token: string;
  readonly hint?: string | undefined;
  /** Whether the request carries a DPoP header at all. */
  readonly hasProof: boolean;
  readonly client: ClientInfo;
}

/**
 * RFC 7009, under the same rule as GraphQL `logout` (session-ending-rule.ts). A refresh token ends
 * its session. An access token with `account:manage` ends its session too (§2.1 lets the server
 * revoke related tokens); one without it (a narrowed token) ends only itself, by `jti`, never its
 * parent session. An unknown, expired or foreign token is not an error (§2.2).
 *
 * A token bound to a DPoP key is revoked only with a proof from that key (RFC 9449 §5 spirit): a
 * stolen copy must not be enough to log its owner out, just as it is not enough to use it.
 */
export async function revokeToken(deps: RevocationDeps, request: RevocationRequest): Promise<void> {
  const target = await findTarget(deps, request.token, request.hint);
  if (!target) return;
  if (target.jkt) {
    if (!request.hasProof)
      throw new UnauthenticatedError("dpop_required", "This token is bound to a key: send a DPoP proof");
    await deps.proof({
      ...(target.kind === "access" ? { accessToken: request.token } : {}),
      expectedJkt: target.jkt,
    });
  }
  const credential: EndingCredential =
    target.kind === "access" ? { kind: "access_token", scopes: target.scopes } : { kind: "refresh_token" };
  const ending = decideSessionEnding(credential, "revoke_presented_token");
  if (ending === "token" && target.kind === "access") {
    await deps.sessions.tokens.revoke({
      jti: target.jti,
      userId: target.userId,
      sessionId: target.sessionId,
      expiresAt: target.expiresAt,
      client: request.client,
    });
    return;
  }
  if (ending !== "session") return;
  try {
    await deps.sessions.revoke({
      sessionId: target.sessionId,
      actorUserId: target.userId,
      asAdmin: false,
      reason: target.kind === "refresh" ? "logout" : "revoked",
      client: request.client,
    });
  } catch (error) {
    // A session deleted meanwhile has nothing left to revoke.
    if (!(error instanceof NotFoundError)) throw error;
  }
}

type Target = {
  readonly sessionId: string;
  readonly userId: string;
  readonly jkt: string | null;
} & (
  | {
      readonly kind: "access";
      readonly scopes: ReadonlySet<string>;
      readonly jti: string;
      readonly expiresAt: number;
    }
  | { readonly kind: "refresh" }
);

async function findTarget(
  deps: RevocationDeps,
  token: string,
  hint: string | undefined,
): Promise<Target | null> {
  const access = async (): Promise<Target | null> => {
    if (!token.includes(".")) return null;
    try {
      const viewer = await deps.tokens.verify(token);
      return {
        kind: "access",
        sessionId: viewer.sessionId,
        userId: viewer.userId,
        jkt: viewer.jkt,
        scopes: viewer.scopes,
        jti: viewer.tokenId,
        expiresAt: viewer.expiresAt,
      };
    } catch {
      return null;
    }
  };
  const refresh = async (): Promise<Target | null> => {
    const record = await findRefreshToken(deps.prisma, token);
    if (!record || record.revoked) return null;
    return { kind: "refresh", sessionId: record.sessionId, userId: record.userId, jkt: record.jkt };
  };
  return hint === "refresh_token" ? ((await refresh()) ?? access()) : ((await access()) ?? refresh());
}
