// A Piscina worker thread that hashes with argon2id. Plain JavaScript: worker threads load it
// with Node's own loader, under tsx, vitest and the built server alike.
//
// The thread lowers its own scheduling priority (Linux keeps a nice value per thread). Hashing is
// the one CPU-heavy job the server has; when it and the event loop want the same core, the event
// loop should win, so requests keep being answered through a login storm. Logins then take longer
// only while something else needs the CPU.
import { getPriority, setPriority } from "node:os";
import { hashSync, verifySync } from "@node-rs/argon2";

const LOWEST_PRIORITY = 19;
try {
  setPriority(0, LOWEST_PRIORITY);
} catch {
  // Not permitted here: the bound on concurrent hashes still keeps a core for the event loop.
}

export function hash({ password, options }) {
  return hashSync(password, options);
}

/** False for a wrong password or a malformed hash, as the caller expects; never throws. */
export function verify({ passwordHash, password }) {
  try {
    return verifySync(passwordHash, password);
  } catch {
    return false;
  }
}

/** This thread's nice value, so the server can tell whether lowering it took. */
export function priority() {
  return getPriority(0);
}
