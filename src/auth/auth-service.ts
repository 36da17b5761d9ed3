import { grantedScopes } from "../authz/scopes.js";
import type { Clock } from "../clock.js";
import { epochSeconds } from "../clock.js";
import { BadUserInputError, UnauthenticatedError } from "../errors/app-error.js";
import type { UserModel } from "../users/user-model.js";
import type { UserService } from "../users/user-service.js";
import type { AuditLog } from "./audit-log.js";
import type { AuthPayloadModel, ClientInfo } from "./auth-payload.js";
import { checkPasswordPolicy, type PasswordHasher } from "./passwords.js";
import type { AuthLimits } from "./rate-limit.js";
import type { IssuedRefresh, SessionService } from "./sessions/session-service.js";
import type { Viewer } from "./viewer.js";

/** What the account flows need from the token core: sign an access token for a session. */
export interface AccessTokenIssuer {
  issue(input: {
    userId: string;
    sessionId: string;
    scopes: readonly string[];
    jkt: string | null;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: Date }>;
}

export interface LoginInput {
  email: string;
  password: string;
  scopes?: readonly string[] | null | undefined;
}

/** The request facts an account flow needs: where it came from, and its verified DPoP key, if any. */
export interface AuthRequest {
  client: ClientInfo;
  /** Thumbprint of the key of a verified DPoP proof sent with this request, or null. */
  jkt: string | null;
}

export const DEFAULT_NARROW_TTL_SECONDS = 60;

/** register, login, refresh, narrowToken, changePassword: thin glue over users, sessions and tokens. */
export class AuthService {
  constructor(
    private readonly deps: {
      clock: Clock;
      users: UserService;
      sessions: SessionService;
      passwords: PasswordHasher;
      tokens: AccessTokenIssuer;
      audit: AuditLog;
      limits: AuthLimits;
      /** DPOP=required: register, login and refresh need a verified proof, so every token is bound. */
      dpopRequired?: boolean;
    },
  ) {}

  async register(
    input: { email: string; password: string; displayName: string },
    request: AuthRequest,
  ): Promise<AuthPayloadModel> {
    this.requireProofIfConfigured(request);
    await this.deps.limits.register(request.client.ip);
    checkPasswordPolicy(input.password);
    const passwordHash = await this.deps.passwords.hash(input.password);
    // The account, its audit entry and its first session are one commit: a retry after a failure
    // finds no half-made account (and no "email taken" for an account it never got).
    let started: IssuedRefresh | undefined;
    const user = await this.deps.users.createWith(
      { email: input.email, passwordHash, displayName: input.displayName },
      (created) => {
        const { writes, issued } = this.deps.sessions.prepareStart({
          userId: created.id,
          scopes: grantedScopes(created.role),
          jkt: request.jkt,
          client: request.client,
        });
        started = issued;
        return [
          this.deps.audit.entry({ type: "user.registered", userId: created.id, client: request.client }),
          ...writes,
        ];
      },
    );
    if (!started) throw new Error("registration committed without a session");
    return this.answer(user, started, request);
  }

  async login(input: LoginInput, request: AuthRequest): Promise<AuthPayloadModel> {
    // Before the password check: the refusal says nothing about the account, and costs no argon2.
    this.requireProofIfConfigured(request);
    // Counted per attempt, before any lookup or hash: a limited answer is the same, and as
    // cheap, for every email, and aliases or concurrent requests cannot multiply guesses.
    const attempt = await this.deps.limits.beginLogin(input.email, request.client.ip);
    let user: UserModel;
    try {
      user = await this.checkCredentials(input, request);
    } catch (error) {
      const wrong = error instanceof UnauthenticatedError && error.reason === "invalid_credentials";
      await (wrong ? attempt.failed() : attempt.abandoned());
      throw error;
    }
    await attempt.succeeded();
    return this.startSession(user, this.chooseScopes(user, input.scopes), request);
  }

  private async checkCredentials(input: LoginInput, request: AuthRequest): Promise<UserModel> {
    // One answer for "no such account" and "wrong password", and the same argon2 work for both.
    const invalid = () => new UnauthenticatedError("invalid_credentials", "Invalid email or password");
    const tooLong = Buffer.byteLength(input.password, "utf8") > 1024;
    const account = await this.deps.users.findCredentials(input.email);
    if (!account || tooLong) {
      await this.deps.passwords.verifyDummy(tooLong ? "" : input.password);
      await this.deps.audit.record({
        type: "login.failed",
        userId: account?.id ?? null,
        client: request.client,
        detail: { reason: "invalid_credentials" },
      });
      throw invalid();
    }
    if (!(await this.deps.passwords.verify(account.passwordHash, input.password))) {
      await this.deps.audit.record({
        type: "login.failed",
        userId: account.id,
        client: request.client,
        detail: { reason: "invalid_credentials" },
      });
      throw invalid();
    }
    const { passwordHash: _hash, ...user } = account;
    return user;
  }

  async refresh(refreshToken: string, request: AuthRequest): Promise<AuthPayloadModel> {
    this.requireProofIfConfigured(request);
    await this.deps.limits.refresh(request.client.ip);
    // The user comes with the token's own lookup, before the one commit: a missing user or a slow
    // "User" table fails with nothing written, and after the commit only in-memory work remains.
    const {
      session,
      refreshToken: successor,
      user,
    } = await this.deps.sessions.rotate({
      refreshToken,
      jkt: request.jkt,
      client: request.client,
    });
    const access = await this.deps.tokens.issue({
      userId: user.id,
      sessionId: session.id,
      scopes: session.scopes,
      jkt: session.jkt,
    });
    return {
      ...access,
      accessToken: access.token,
      tokenType: session.jkt ? "DPoP" : "Bearer",
      scopes: session.scopes,
      refreshToken: successor,
      session,
      user,
    };
  }

  /**
   * A token with a subset of the caller's scopes that dies no later than the caller's own:
   * a page or a widget gets only what its job needs. Same session, same key binding, no refresh token.
   */
  async narrowToken(viewer: Viewer, scopes: readonly string[], expiresInSeconds: number | null | undefined) {
    const missing = scopes.filter((s) => !viewer.scopes.has(s));
    if (missing.length > 0) {
      throw new BadUserInputError(
        "invalid_scope",
        `Cannot narrow to scopes the token does not carry: ${missing.join(", ")}`,
        "scopes",
      );
    }
    const remaining = viewer.expiresAt - epochSeconds(this.deps.clock.now());
    const requested = expiresInSeconds ?? DEFAULT_NARROW_TTL_SECONDS;
    if (!Number.isInteger(requested) || requested < 1) {
      throw new BadUserInputError(
        "invalid_lifetime",
        "expiresInSeconds must be a positive whole number",
        "expiresInSeconds",
      );
    }
    if (remaining < 1) throw new UnauthenticatedError("token_expired");
    const unique = [...new Set(scopes)];
    const access = await this.deps.tokens.issue({
      userId: viewer.userId,
      sessionId: viewer.sessionId,
      scopes: unique,
      jkt: viewer.jkt,
      ttlSeconds: Math.min(requested, remaining),
    });
    return {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      tokenType: viewer.jkt ? "DPoP" : "Bearer",
      scopes: unique,
    };
  }

  /** Changes the password and ends every other session of the user. */
  async changePassword(
    viewer: Viewer,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo,
  ): Promise<boolean> {
    const hash = await this.deps.users.passwordHash(viewer.userId);
    if (!hash || !(await this.deps.passwords.verify(hash, currentPassword))) {
      throw new BadUserInputError(
        "invalid_current_password",
        "Current password is not correct",
        "currentPassword",
      );
    }
    checkPasswordPolicy(newPassword, "newPassword");
    await this.deps.users.setPasswordHash(viewer.userId, await this.deps.passwords.hash(newPassword));
    await this.deps.audit.record({
      type: "password.changed",
      userId: viewer.userId,
      sessionId: viewer.sessionId,
      client,
    });
    await this.deps.sessions.revokeAllForUser({
      userId: viewer.userId,
      keep: viewer.sessionId,
      reason: "password_changed",
      client,
    });
    return true;
  }

  /** DPOP=required refuses an account flow without a verified DPoP proof: it would mint unbound tokens. */
  private requireProofIfConfigured(request: AuthRequest): void {
    if (this.deps.dpopRequired && request.jkt === null)
      throw new UnauthenticatedError("dpop_required", "This server requires a DPoP proof to sign in");
  }

  private chooseScopes(user: UserModel, requested: readonly string[] | null | undefined): string[] {
    const granted = grantedScopes(user.role);
    if (requested == null) return granted;
    const unknown = requested.filter((s) => !(granted as string[]).includes(s));
    if (unknown.length > 0) {
      throw new BadUserInputError(
        "invalid_scope",
        `Scopes not granted to this account: ${unknown.join(", ")}`,
        "scopes",
      );
    }
    return [...new Set(requested)];
  }

  private async startSession(
    user: UserModel,
    scopes: readonly string[],
    request: AuthRequest,
  ): Promise<AuthPayloadModel> {
    const started = await this.deps.sessions.start({
      userId: user.id,
      scopes,
      jkt: request.jkt,
      client: request.client,
    });
    return this.answer(user, started, request);
  }

  /** The answer to a committed login or registration: only in-memory work (signing) is left. */
  private async answer(
    user: UserModel,
    started: IssuedRefresh,
    request: AuthRequest,
  ): Promise<AuthPayloadModel> {
    const { session, refreshToken } = started;
    const access = await this.deps.tokens.issue({
      userId: user.id,
      sessionId: session.id,
      scopes: session.scopes,
      jkt: request.jkt,
    });
    return {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      tokenType: request.jkt ? "DPoP" : "Bearer",
      scopes: session.scopes,
      refreshToken,
      session,
      user,
    };
  }
}
