import type { TokenVerifier } from "../auth/authenticate.js";
import { DpopNonces } from "../auth/dpop/index.js";
import { KeyStore, keyStoreConfig } from "../auth/keys/key-store.js";
import { createPasswordHasher, type PasswordHasher } from "../auth/passwords.js";
import { RevocationSet } from "../auth/sessions/revocation.js";
import { AccessTokenVerifier } from "../auth/tokens/verify-access-token.js";
import type { ServerRuntime } from "./configuration.js";
import { createInfrastructure, type Infrastructure } from "./infrastructure.js";

/** Step 2 of `createServer`: state that outlives a request (keys, revocations, replay store, nonces, hashing threads). */
export interface ServerStores {
  readonly keys: KeyStore;
  readonly verifier: TokenVerifier;
  readonly revocations: RevocationSet;
  readonly infrastructure: Infrastructure;
  /** Present only when DPoP nonces are configured (RFC 9449 §8). */
  readonly nonces: DpopNonces | null;
  /** argon2 worker threads: closed with the server. */
  readonly passwords: PasswordHasher;
}

export async function openStores({ config, clock, logger, database }: ServerRuntime): Promise<ServerStores> {
  const keys = await KeyStore.open({
    prisma: database.prisma,
    clock,
    config: keyStoreConfig(config),
  });
  const verifier = new AccessTokenVerifier({ keys, clock, config: config.tokens });
  const { accessTokenTtlSeconds, clockToleranceSeconds } = config.tokens;
  const revocations = new RevocationSet(clock, (accessTokenTtlSeconds + 2 * clockToleranceSeconds) * 1000);
  const infrastructure = await createInfrastructure(config, clock, logger);
  infrastructure.bus.subscribe((list) => {
    for (const r of list) revocations.add(r.sessionId, r.until);
  });
  const nonces = config.dpop.nonceSecret ? new DpopNonces(config.dpop.nonceSecret, clock) : null;
  const passwords = await createPasswordHasher(config.passwords);
  const priority = await passwords.threadPriority();
  if (priority <= 0)
    logger.warn(
      { priority },
      "argon2 threads could not lower their scheduling priority: a login storm competes with requests for the CPU",
    );
  return { keys, verifier, revocations, infrastructure, nonces, passwords };
}
