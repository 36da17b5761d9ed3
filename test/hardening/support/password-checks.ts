import type * as Argon2 from "@node-rs/argon2";
import { type Mock, vi } from "vitest";

// Counts real password checks, so that a test can show a refused attempt never reached argon2.
// Use in a test file as
//   vi.mock("@node-rs/argon2", async (original) => (await import("./support/password-checks.js")).countingArgon2(original));
// (a dynamic import: vi.mock is hoisted above the file's imports).

let verify: Mock<typeof Argon2.verify> | undefined;

/** The real argon2 with `verify` wrapped in a spy. */
export async function countingArgon2(importOriginal: () => Promise<unknown>): Promise<typeof Argon2> {
  const real = (await importOriginal()) as typeof Argon2;
  verify = vi.fn(real.verify);
  return { ...real, verify };
}

/** How many passwords argon2 has checked so far in this file. */
export function passwordChecks(): number {
  if (!verify) throw new Error('argon2 is not counted: vi.mock("@node-rs/argon2", … countingArgon2)');
  return verify.mock.calls.length;
}
