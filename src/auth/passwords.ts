import { type Algorithm, hash, verify } from "@node-rs/argon2";

// Algorithm is an ambient const enum (not importable as a value under verbatimModuleSyntax).
const ARGON2ID = 2 as Algorithm.Argon2id;

import type { Config } from "../config/config.js";
import { BadUserInputError } from "../errors/app-error.js";
import { BoundedQueue } from "./bounded-queue.js";

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_BYTES = 1024;

/** Policy checked before hashing, so an oversized password never reaches argon2. */
export function checkPasswordPolicy(password: string, field = "password"): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new BadUserInputError(
      "weak_password",
      `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
      field,
    );
  }
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new BadUserInputError(
      "password_too_long",
      `Password must be at most ${MAX_PASSWORD_BYTES} bytes`,
      field,
    );
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a malformed hash; never throws for either. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the time of one verification, for a login whose account does not exist. */
  verifyDummy(password: string): Promise<void>;
}

/**
 * argon2id via @node-rs/argon2: it runs on libuv's thread pool, off the event loop. Off the event
 * loop is not enough: libuv's four threads hashing at once take every core of a small machine, and
 * the event loop then waits for a CPU. So hashes queue for `maxConcurrent` slots (by default every
 * core but one), and a full queue refuses with a retryable 503 (SERVICE_UNAVAILABLE, `server_busy`).
 */
export async function createPasswordHasher(config: Config["passwords"]): Promise<PasswordHasher> {
  const queue = new BoundedQueue(config.maxConcurrent, config.queueLimit);
  const options = {
    algorithm: ARGON2ID,
    memoryCost: config.memoryKib,
    timeCost: config.timeCost,
    parallelism: config.parallelism,
  };
  // Made with the same parameters as real hashes, so a miss costs what a hit costs.
  const dummyHash = await hash("holdfast dummy password for timing", options);
  const check = (passwordHash: string, password: string) =>
    queue.run(async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  return {
    hash: (password) => queue.run(() => hash(password, options)),
    verify: check,
    async verifyDummy(password) {
      await check(dummyHash, password);
    },
  };
}
