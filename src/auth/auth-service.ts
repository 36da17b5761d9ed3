import type { Clock } from "../clock.js";
import { epochSeconds } from "../clock.js";
import { BadUserInputError, UnauthenticatedError } from "../errors/app-error.js";
import type { Role } from "../roles.js";
import type { UserModel } from "../users/user-model.js";
import type { UserService } from "../users/user-service.js";
import type { AuditLog } from "./audit-log.js";
import type { AuthPayloadModel, ClientInfo } from "./auth-payload.js";
import { CredentialProof, type PasskeyAssertions, type Reauthentication } from "./credential-proof.js";
import { checkPasswordPolicy, type PasswordHasher } from "./passwords.js";
import type { AuthLimits } from "./rate-limit.js";
import type { IssuedRefresh, SessionService } from "./sessions/session-service.js";
import { byPasskey, byPassword } from "./user-authentication.js";
import type { UserAuthentication, Viewer } from "./viewer.js";

/** What the account flows need from the token core: sign an access token for a session. */
export interface AccessTokenIssuer {
  issue(input: {
    userId: string;
    sessionId: string;
    scopes: readonly string[];
    jkt: string | null;
    ttlSeconds?: number;
    /** The session's last authentication (`auth_time`, `acr`, `amr`). */
    authentication: UserAuthentication | null;
  }): Promise<{ token: string; expiresAt: Date }>;
}

export type { PasskeyAssertions, Reauthentication } from "./credential-proof.js";

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
      /** Policy, injected: the scopes a session of this role starts with (authz decides, auth issues). */
      scopesAtLogin: (role: Role, requested?: readonly string[] | null) => readonly string[];
      /** DPOP=required: register, login and refresh need a verified proof, so every token is bound. */
      dpopRequired?: boolean;
      passkeys?: PasskeyAssertions;
    },
  ) {
    this.proof = new CredentialProof(deps);
  }

  private readonly proof: CredentialProof;

  /** Adding a way to sign in: the caller proves a credential now (password or own passkey). */
  proveHolder(user: UserModel, proof: Reauthentication | null, client: ClientInfo): Promise<void> {
    return this.proof.proveHolder(user, proof, client);
  }

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
          scopes: this.deps.scopesAtLogin(created.role),
          jkt: request.jkt,
          client: request.client,
          authentication: byPassword(this.deps.clock),
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
    return this.startSession(user, input.scopes, request, byPassword(this.deps.clock));
  }

  /** Signs in with a passkey (a discoverable credential, user verification required). */
  async signInWithPasskey(
    input: { response: unknown; scopes?: readonly string[] | null | undefined },
    request: AuthRequest,
  ): Promise<AuthPayloadModel> {
    this.requireProofIfConfigured(request);
    const { userId } = await this.proof.passkeys().verifyAssertion(input.response, request.client);
    const user = await this.deps.users.findById(userId);
    if (!user) throw new UnauthenticatedError("invalid_passkey", "Passkey not recognised");
    return this.startSession(user, input.scopes, request, byPasskey(this.deps.clock));
  }

  /**
   * RFC 9470 step-up: the caller proves themself again, and their *current* session records it.
   * Answers a fresh access token of that session (same family, same DPoP key, the session's
   * scopes); no refresh token, no new session. A password is limited exactly like a login.
   */
  async reauthenticate(
    viewer: Viewer,
    proof: Reauthentication,
    request: AuthRequest,
  ): Promise<AuthPayloadModel> {
    const user = await this.deps.users.findById(viewer.userId);
    if (!user) throw new UnauthenticatedError("invalid_token");
    let authentication: UserAuthentication;
    if ("password" in proof) {
      await this.proof.checkPassword(
        user,
        proof.password,
        request.client,
        (message) => new UnauthenticatedError("invalid_credentials", message),
      );
      authentication = byPassword(this.deps.clock);
    } else {
      const { userId } = await this.proof.passkeys().verifyAssertion(proof.passkey, request.client);
      // A valid assertion of someone else's passkey proves nothing about this session's user.
      if (userId !== viewer.userId) {
        await this.deps.audit.record({
          type: "reauthentication.failed",
          userId: viewer.userId,
          sessionId: viewer.sessionId,
          client: request.client,
          detail: { reason: "passkey_of_another_user" },
        });
        // The same answer as an unknown passkey: which account a credential belongs to is not told.
        throw new UnauthenticatedError("invalid_passkey", "Passkey not recognised");
      }
      authentication = byPasskey(this.deps.clock);
    }
    const session = await this.deps.sessions.reauthenticate({
      sessionId: viewer.sessionId,
      userId: viewer.userId,
      authentication,
      client: request.client,
    });
    const access = await this.deps.tokens.issue({
      userId: user.id,
      sessionId: session.id,
      scopes: session.scopes,
      jkt: session.jkt,
      authentication,
    });
    return {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      tokenType: session.jkt ? "DPoP" : "Bearer",
      scopes: session.scopes,
      refreshToken: null,
      session,
      user,
    };
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
    // The access token is signed before the rotation commits: after the commit nothing may fail,
    // or the client's retry would present a consumed token.
    const {
      session,
      refreshToken: successor,
      user,
      prepared: access,
    } = await this.deps.sessions.rotate(
      { refreshToken, jkt: request.jkt, client: request.client },
      (rotated, owner) =>
        this.deps.tokens.issue({
          userId: owner.id,
          sessionId: rotated.id,
          scopes: rotated.scopes,
          jkt: rotated.jkt,
          // The family's last authentication, not this refresh: refreshing proves nothing about the user.
          authentication: rotated.authentication,
        }),
    );
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
      // Never raised: a narrowed token is no fresher than the token it came from.
      authentication: viewer.authentication,
    });
    return {
      accessToken: access.token,
      expiresAt: access.expiresAt,
      tokenType: viewer.jkt ? "DPoP" : "Bearer",
      scopes: unique,
    };
  }

  /**
   * Changes the password and ends every other session of the user. The permission map asks for a
   * recent authentication first; the current password is still checked, under login's limits.
   */
  async changePassword(
    viewer: Viewer,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo,
  ): Promise<boolean> {
    const user = await this.deps.users.findById(viewer.userId);
    if (!user) throw new UnauthenticatedError("invalid_token");
    // The new password's policy first: a weak one costs no guess and no argon2.
    checkPasswordPolicy(newPassword, "newPassword");
    await this.proof.checkPassword(
      user,
      currentPassword,
      client,
      () =>
        new BadUserInputError(
          "invalid_current_password",
          "Current password is not correct",
          "currentPassword",
        ),
    );
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

  /** A sign-in's new session, with the scopes asked for that the user's role allows at login. */
  private async startSession(
    user: UserModel,
    requestedScopes: readonly string[] | null | undefined,
    request: AuthRequest,
    authentication: UserAuthentication,
  ): Promise<AuthPayloadModel> {
    const started = await this.deps.sessions.start({
      userId: user.id,
      scopes: this.deps.scopesAtLogin(user.role, requestedScopes),
      jkt: request.jkt,
      client: request.client,
      authentication,
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
      authentication: session.authentication,
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
