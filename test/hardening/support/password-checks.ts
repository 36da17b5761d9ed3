// Counts real password checks: each is an argon2 verification on a hashing thread (the dummy one
// for an unknown account included), so a refused attempt must leave the count unchanged.
// Use from a test file:
//   vi.mock("../../src/auth/passwords.js", async (importOriginal) =>
//     (await import("./support/password-checks.js")).countingPasswords(await importOriginal()));
import type * as Passwords from "../../../src/auth/passwords.js";

let checks = 0;

export const passwordChecks = (): number => checks;

export function countingPasswords(real: typeof Passwords): typeof Passwords {
  return {
    ...real,
    async createPasswordHasher(config) {
      const hasher = await real.createPasswordHasher(config);
      return {
        ...hasher,
        verify(passwordHash, password) {
          checks += 1;
          return hasher.verify(passwordHash, password);
        },
        verifyDummy(password) {
          checks += 1;
          return hasher.verifyDummy(password);
        },
      };
    },
  };
}
