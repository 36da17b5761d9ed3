import { AuditLog } from "../auth/audit-log.js";
import { type AccessTokenIssuer, AuthService } from "../auth/auth-service.js";
import { PasskeyService } from "../auth/passkeys/passkey-service.js";
import { relyingPartyFor } from "../auth/passkeys/relying-party.js";
import { WebAuthnChallenges } from "../auth/passkeys/webauthn-challenges.js";
import { AuthRateLimits } from "../auth/rate-limit.js";
import { createRefreshTokenStore } from "../auth/sessions/create-refresh-token-store.js";
import { credentialChangeFeed, securityEventFeed } from "../auth/sessions/redis-security-event-sink.js";
import { SessionService } from "../auth/sessions/session-service.js";
import { issueAccessToken } from "../auth/tokens/issue-access-token.js";
import { scopesAtLogin } from "../authz/login-scopes.js";
import type { Services } from "../graphql/context.js";
import { createUserReads } from "../users/user-reads.js";
import { UserService } from "../users/user-service.js";
import type { ServerRuntime } from "./configuration.js";
import type { ServerStores } from "./stores.js";

/** Step 3 of `createServer`: the long-lived services resolvers call. */
export async function createServices(runtime: ServerRuntime, stores: ServerStores): Promise<Services> {
  const { config, clock, logger } = runtime;
  const { prisma } = runtime.database;
  const { keys, revocations, infrastructure } = stores;
  // Notes keep their own table on the shared connection (until notes is a module with its own start).
  const audit = new AuditLog(prisma, clock);
  const users = new UserService(prisma, clock, createUserReads(runtime.database.driver));
  const sessions = new SessionService({
    prisma,
    refreshTokens: createRefreshTokenStore(runtime.database.driver, runtime.databaseClock),
    clock,
    audit,
    revocations,
    // Revocations also go out as signed Security Event Tokens for other services (RFC 8417).
    bus: securityEventFeed(infrastructure.bus, { keys, clock, config, redis: infrastructure.redis, logger }),
    config: {
      ...config.refresh,
      accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    },
  });
  const tokens: AccessTokenIssuer = {
    issue: (input) => issueAccessToken({ keys, clock, config: config.tokens }, input),
  };
  const limits = new AuthRateLimits({
    config: config.rateLimits,
    clock,
    logger,
    redis: infrastructure.redis,
    keyPrefix: `${config.redis?.keyPrefix ?? "holdfast:"}rl`,
  });
  const passkeys = new PasskeyService({
    prisma,
    clock,
    audit,
    challenges: new WebAuthnChallenges(prisma, clock),
    relyingParty: relyingPartyFor(config.server.publicUrl),
    credentialChanges: credentialChangeFeed({ keys, clock, config, redis: infrastructure.redis, logger }),
  });
  const auth = new AuthService({
    clock,
    users,
    sessions,
    passwords: stores.passwords,
    tokens,
    audit,
    limits,
    scopesAtLogin: scopesAtLogin(runtime.scopes),
    dpopRequired: config.dpop.required,
    passkeys,
  });
  return {
    users,
    sessions,
    auth,
    keys: {
      rotate: async () => {
        const rotated = await keys.rotate();
        await audit.record({ type: "signing_key.rotated", detail: { kid: rotated.kid } });
        return rotated;
      },
    },
    passkeys,
    limits,
  };
}
