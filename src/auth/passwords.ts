import type { Algorithm } from "@node-rs/argon2";
import { Piscina } from "piscina";

// Algorithm is an ambient const enum (not importable as a value under verbatimModuleSyntax).
const ARGON2ID = 2 as Algorithm.Argon2id;

import type { Config } from "../config/config.js";
import { BadUserInputError } from "../errors/app-error.js";
import { BoundedQueue } from "./bounded-queue.js";

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_BYTES = 1024;

/** Policy checked before hashing, so an oversized password never reaches argon2. */
export function checkPasswordPolicy(password: string, field = "password"): void {
  // A lone surrogate is not text: encoded for argon2 it would become U+FFFD, so distinct passwords
  // would hash alike.
  if (/\p{Cs}/u.test(password)) {
    throw new BadUserInputError("invalid_password", "Password is not valid Unicode text", field);
  }
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
  /** The hashing threads' nice value (19 when lowering it took). */
  threadPriority(): Promise<number>;
  close(): Promise<void>;
}

/**
 * argon2id in worker threads (Piscina), off the event loop. Off the event loop is not enough:
 * threads hashing at once take every core of a small machine, and the event loop then waits for a
 * CPU. So at most `maxConcurrent` hashes run at once (by default every core but one), each thread
 * at the lowest scheduling priority, and beyond `queueLimit` waiting hashes a login is refused with
 * a retryable 503 (SERVICE_UNAVAILABLE, `server_busy`) instead of growing a backlog.
 */
export async function createPasswordHasher(config: Config["passwords"]): Promise<PasswordHasher> {
  // Admission is ours (exact: refused only when every slot runs and the queue is full); Piscina's
  // own queue only bridges the moment between a task's answer and its thread reporting ready.
  const queue = new BoundedQueue(config.maxConcurrent, config.queueLimit);
  const pool = new Piscina({
    filename: new URL("./argon2-worker.mjs", import.meta.url).href,
    minThreads: config.maxConcurrent,
    maxThreads: config.maxConcurrent,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const run = <T>(name: string, task: unknown): Promise<T> =>
    queue.run(() => pool.run(task, { name }) as Promise<T>);
  const options = {
    algorithm: ARGON2ID,
    memoryCost: config.memoryKib,
    timeCost: config.timeCost,
    parallelism: config.parallelism,
  };
  // Made with the same parameters as real hashes, so a miss costs what a hit costs.
  const dummyHash = await run<string>("hash", { password: "holdfast dummy password for timing", options });
  const check = (passwordHash: string, password: string) =>
    run<boolean>("verify", { passwordHash, password });
  return {
    hash: (password) => run<string>("hash", { password, options }),
    verify: check,
    async verifyDummy(password) {
      await check(dummyHash, password);
    },
    threadPriority: () => run<number>("priority", {}),
    close: () => pool.destroy(),
  };
}
