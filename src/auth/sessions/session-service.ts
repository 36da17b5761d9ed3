import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { DbWrite, Prisma } from "../../db/database.js";
import { withDatabase } from "../../db/errors.js";
import { NotFoundError, UnauthenticatedError } from "../../errors/app-error.js";
import { newId } from "../../ids.js";
import { toUserModel, type UserModel } from "../../users/user-model.js";
import type { AuditLog } from "../audit-log.js";
import type { ClientInfo } from "../auth-payload.js";
import type { UserAuthentication } from "../viewer.js";
import { RefreshReuse } from "./refresh-reuse.js";
import {
  generateRefreshToken,
  hashRefreshToken,
  isWellFormedRefreshToken,
  sealSuccessor,
} from "./refresh-token.js";
import type { RefreshTokenStore, SessionRecord } from "./refresh-token-store.js";
import type { Revocation, RevocationBus, RevocationSet } from "./revocation.js";
import { refusalOf } from "./rotation-rules.js";
import { type SessionModel, toSessionModel } from "./session-model.js";
import { TokenRevocations } from "./token-revocations.js";

export interface SessionServiceDeps {
  prisma: Prisma;
  /** The rotation's statements (refresh-token-store.ts). */
  refreshTokens: RefreshTokenStore;
  clock: Clock;
  audit: AuditLog;
  revocations: RevocationSet;
  bus: RevocationBus;
  config: Config["refresh"] & { accessTokenTtlSeconds: number; clockToleranceSeconds: number };
}

export interface StartInput {
  userId: string;
  scopes: readonly string[];
  jkt: string | null;
  client: ClientInfo;
  /** How the user proved themself (RFC 9068 §2.2.1 `auth_time`/`acr`/`amr`), kept by the session. */
  authentication: UserAuthentication;
}

export interface IssuedRefresh {
  readonly session: SessionModel;
  readonly refreshToken: string;
}

/** A rotation also yields the session's user: read with the token, before anything is written. */
export interface RotatedRefresh<T = undefined> extends IssuedRefresh {
  readonly user: UserModel;
  /** What `prepare` made of the session and user before the commit. */
  readonly prepared: T;
}

/** Work for the rotation's answer that can fail (signing the access token): done before the commit. */
export type PrepareRotation<T> = (session: SessionModel, user: UserModel) => Promise<T>;

/**
 * Sessions are refresh-token families. Every state change is one atomic statement or one batch
 * transaction (never an interactive transaction: on the embedded SQLite adapter, other requests'
 * queries would run inside it), so concurrent refreshes and a crash mid-way leave no half state.
 */
export class SessionService {
  /** Per-token revocation (by `jti`), on the same set, bus and feed as sessions. */
  readonly tokens: TokenRevocations;
  /** Reuse detection and the grace walk (refresh-reuse.ts). */
  private readonly reuse: RefreshReuse;

  constructor(private readonly deps: SessionServiceDeps) {
    this.tokens = new TokenRevocations({ ...deps, ...deps.config });
    this.reuse = new RefreshReuse({
      ...deps,
      reuseGraceSeconds: deps.config.reuseGraceSeconds,
      announce: (sessionIds) => this.announce(sessionIds),
    });
  }

  /** Starts a family for a fresh login: one commit, on the driver (a login's hot path). */
  async start(input: StartInput): Promise<IssuedRefresh> {
    const family = this.newFamily(input);
    await withDatabase(() =>
      this.deps.refreshTokens.start({
        session: family.session,
        token: family.token,
        audit: this.deps.audit.row(family.audit),
      }),
    );
    return family.issued;
  }

  /**
   * The writes that start a family and what the caller answers once they are committed, for a
   * caller that commits them together with its own writes (registration creates the user too).
   */
  prepareStart(input: StartInput): { writes: DbWrite[]; issued: IssuedRefresh } {
    const { prisma } = this.deps;
    const { session, token, audit, issued } = this.newFamily(input);
    const writes = [
      prisma.session.create({ data: session }),
      prisma.refreshToken.create({ data: { ...token, sessionId: session.id, createdAt: session.createdAt } }),
      this.deps.audit.entry(audit),
    ];
    return { writes, issued };
  }

  private newFamily(input: StartInput) {
    const { clock, config } = this.deps;
    const now = clock.now();
    const absoluteExpiresAt = new Date(now.getTime() + config.absoluteTtlSeconds * 1000);
    const idleExpiresAt = this.idleExpiry(now, absoluteExpiresAt);
    const refreshToken = generateRefreshToken();
    const session: SessionRecord = {
      id: newId(now),
      userId: input.userId,
      scopes: input.scopes.join(" "),
      jkt: input.jkt,
      userAgent: input.client.userAgent?.slice(0, 512) ?? null,
      ip: input.client.ip,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt,
      absoluteExpiresAt,
      revokedAt: null,
      ...authenticationColumns(input.authentication),
    };
    return {
      session,
      token: { id: newId(now), tokenHash: hashRefreshToken(refreshToken) },
      audit: {
        type: "login.succeeded",
        userId: input.userId,
        sessionId: session.id,
        client: input.client,
      } as const,
      issued: { session: toSessionModel(session), refreshToken },
    };
  }

  /**
   * Rotates a refresh token (the reference order of a refresh grant: find → binding → expiry →
   * reuse → consume → successor). `jkt` is the thumbprint of a verified DPoP proof, or null.
   * `prepare` runs before the one commit, so that after it nothing can fail.
   *
   * Every decision takes the database's time read with the token (`found.now`), never this
   * instance's clock: a lost-answer retry or a concurrent refresh that lands on another instance
   * whose clock differs is judged by the same clock as the rotation it follows.
   */
  async rotate<T = undefined>(
    input: { refreshToken: string; jkt: string | null; client: ClientInfo },
    prepare: PrepareRotation<T> = async () => undefined as T,
  ): Promise<RotatedRefresh<T>> {
    const { refreshTokens } = this.deps;
    if (!isWellFormedRefreshToken(input.refreshToken))
      throw new UnauthenticatedError("invalid_refresh_token");
    // One statement: the token, its session and the session's user.
    const found = await withDatabase(() => refreshTokens.find(hashRefreshToken(input.refreshToken)));
    if (!found) throw new UnauthenticatedError("invalid_refresh_token");
    const { token: row, session, now } = found;
    const user = toUserModel(found.user);
    // Every check before the one commit (the user came with the token's own lookup): a failure
    // from here on has written nothing, and after the commit nothing can fail.
    const refusal = refusalOf(session, input.jkt, now);
    if (refusal) throw refusal;

    if (row.consumedAt === null) {
      const successor = generateRefreshToken();
      const idleExpiresAt = this.idleExpiry(now, session.absoluteExpiresAt);
      const rotated = toSessionModel({ ...session, lastUsedAt: now, idleExpiresAt });
      const prepared = await prepare(rotated, user);
      // Compare-and-set: the update only matches an unconsumed token, and the successor's unique
      // parentId makes a second successor impossible, so of N concurrent rotations one commits.
      // The successor, the session's touch and the audit row commit with it, in one round trip.
      const consumed = await withDatabase(() =>
        refreshTokens.consume({
          tokenId: row.id,
          sessionId: session.id,
          now,
          sealedSuccessor: sealSuccessor(input.refreshToken, successor),
          successor: { id: newId(now), tokenHash: hashRefreshToken(successor) },
          idleExpiresAt,
          ip: input.client.ip,
          audit: this.deps.audit.row({
            type: "refresh_token.rotated",
            userId: session.userId,
            sessionId: session.id,
            client: input.client,
          }),
        }),
      );
      if (consumed) return { session: rotated, refreshToken: successor, user, prepared };
      // Another request rotated this token first: it is now consumed, so fall through to reuse.
      return this.rotate(input, prepare);
    }

    return this.reuse.answer({ ...row, consumedAt: row.consumedAt }, session, user, input, now, prepare);
  }

  /**
   * Records a fresh authentication of the user on one of their live sessions (RFC 9470 step-up):
   * the family's later access tokens carry it. Same session, same key binding, no new refresh token.
   */
  async reauthenticate(input: {
    sessionId: string;
    userId: string;
    authentication: UserAuthentication;
    client: ClientInfo;
  }): Promise<SessionModel> {
    const { prisma, clock } = this.deps;
    const now = clock.now();
    const [updated] = await withDatabase(() =>
      prisma.$transaction([
        // One statement decides: a revoked or expired session (or another user's) is not raised.
        prisma.session.updateMany({
          where: {
            id: input.sessionId,
            userId: input.userId,
            revokedAt: null,
            idleExpiresAt: { gt: now },
            absoluteExpiresAt: { gt: now },
          },
          data: authenticationColumns(input.authentication),
        }),
        this.deps.audit.entry({
          type: "session.reauthenticated",
          userId: input.userId,
          sessionId: input.sessionId,
          client: input.client,
          detail: { acr: input.authentication.acr },
        }),
      ]),
    );
    const session = updated.count === 1 ? await this.findById(input.sessionId) : null;
    if (!session) throw new UnauthenticatedError("token_revoked", "The session of this token has ended");
    return session;
  }

  /** Ends one session. Only its owner may, or a caller allowed to end anyone's (`asAdmin`). */
  async revoke(input: {
    sessionId: string;
    actorUserId: string;
    asAdmin: boolean;
    reason: "logout" | "revoked";
    client: ClientInfo;
  }): Promise<boolean> {
    const { prisma, clock } = this.deps;
    const session = await withDatabase(() =>
      prisma.session.findUnique({ where: { id: input.sessionId }, select: { userId: true } }),
    );
    // Another user's session is "not found" to a non-admin: its existence is not disclosed.
    if (!session || (session.userId !== input.actorUserId && !input.asAdmin)) {
      throw new NotFoundError("Session not found");
    }
    const now = clock.now();
    await withDatabase(() =>
      prisma.$transaction([
        prisma.session.updateMany({
          where: { id: input.sessionId, revokedAt: null },
          data: { revokedAt: now, revokedReason: input.reason },
        }),
        this.deps.audit.entry({
          type: input.reason === "logout" ? "session.logged_out" : "session.revoked",
          userId: session.userId,
          sessionId: input.sessionId,
          client: input.client,
          detail: { actorUserId: input.actorUserId },
        }),
      ]),
    );
    await this.announce([input.sessionId]);
    // Ending an already ended session is not an error: the caller's intent holds.
    return true;
  }

  /** Ends every live session of a user, except `keep` (the caller's own, after a password change). */
  async revokeAllForUser(input: {
    userId: string;
    keep?: string | null;
    reason: "logout_everywhere" | "password_changed";
    client: ClientInfo;
  }): Promise<number> {
    const { prisma, clock } = this.deps;
    const now = clock.now();
    const where = {
      userId: input.userId,
      revokedAt: null,
      ...(input.keep ? { id: { not: input.keep } } : {}),
    };
    const live = await withDatabase(() => prisma.session.findMany({ where, select: { id: true } }));
    const ids = live.map((s) => s.id);
    if (ids.length === 0) return 0;
    await withDatabase(() =>
      prisma.$transaction([
        prisma.session.updateMany({
          where: { id: { in: ids }, revokedAt: null },
          data: { revokedAt: now, revokedReason: input.reason },
        }),
        ...ids.map((sessionId) =>
          this.deps.audit.entry({
            type: "session.revoked",
            userId: input.userId,
            sessionId,
            client: input.client,
            detail: { reason: input.reason },
          }),
        ),
      ]),
    );
    await this.announce(ids);
    return ids.length;
  }

  /** The user's live sessions, most recently used first. */
  async listForUser(userId: string): Promise<SessionModel[]> {
    const now = this.deps.clock.now();
    const rows = await withDatabase(() => this.deps.refreshTokens.liveSessions(userId, now));
    return rows.map(toSessionModel);
  }

  async findById(sessionId: string): Promise<SessionModel | null> {
    const row = await withDatabase(() => this.deps.prisma.session.findUnique({ where: { id: sessionId } }));
    return row ? toSessionModel(row) : null;
  }

  /**
   * Loads revocations whose access tokens could still be alive, into the in-memory set: a new or
   * restarted instance must refuse them as well as the instance that revoked them.
   */
  async loadRecentRevocations(): Promise<number> {
    const since = new Date(this.deps.clock.now().getTime() - this.tokenLifetimeMs());
    const rows = await withDatabase(() =>
      this.deps.prisma.session.findMany({
        where: { revokedAt: { gte: since } },
        select: { id: true, revokedAt: true },
      }),
    );
    for (const row of rows) {
      this.deps.revocations.add(row.id, new Date(row.revokedAt!.getTime() + this.tokenLifetimeMs()));
    }
    return rows.length + (await this.tokens.load());
  }

  private async announce(sessionIds: readonly string[]): Promise<void> {
    const until = new Date(this.deps.clock.now().getTime() + this.tokenLifetimeMs());
    const revocations: Revocation[] = sessionIds.map((sessionId) => ({ sessionId, until }));
    // Local first: this instance refuses the tokens even if the bus is down.
    for (const r of revocations) this.deps.revocations.add(r.sessionId, r.until);
    await this.deps.bus.publish(revocations);
  }

  private tokenLifetimeMs(): number {
    return (this.deps.config.accessTokenTtlSeconds + this.deps.config.clockToleranceSeconds) * 1000;
  }

  private idleExpiry(now: Date, absoluteExpiresAt: Date): Date {
    const idle = new Date(now.getTime() + this.deps.config.idleTtlSeconds * 1000);
    return idle < absoluteExpiresAt ? idle : absoluteExpiresAt;
  }
}

function authenticationColumns(authentication: UserAuthentication) {
  return {
    authTime: new Date(authentication.authTime * 1000),
    acr: authentication.acr,
    amr: authentication.amr.join(" "),
  };
}
