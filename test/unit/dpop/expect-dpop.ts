import { expect } from "vitest";
import type { DpopCheck } from "../../../src/auth/dpop/index.js";
import { InvalidDpopProofError } from "../../../src/auth/dpop/index.js";

/** Asserts a refusal with the public code and reason, and that it came from the intended check. */
export async function expectRefused(promise: Promise<unknown>, check: DpopCheck): Promise<void> {
  const error = await promise.then(
    () => {
      throw new Error(`expected the proof to be refused by the "${check}" check, but it was accepted`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidDpopProofError);
  expect(error).toMatchObject({
    code: "UNAUTHENTICATED",
    reason: "invalid_dpop_proof",
    httpStatus: 401,
    check,
  });
}
