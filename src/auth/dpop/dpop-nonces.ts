import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../clock.js";

/** Domain separation: the same secret must never yield a nonce that means something elsewhere. */
const CONTEXT = "holdfast/dpop-nonce/v1\0";
const MIN_SECRET_BYTES = 32;

/**
 * Stateless server-provided DPoP nonces (RFC 9449 §8, §9): HMAC-SHA256(secret, time step), base64url.
 * Any instance holding the same secret issues and accepts the same values, with no shared store.
 * A nonce is accepted during its own step and the next one, so it lives between one and two steps.
 */
export class DpopNonces {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #stepMs: number;
  /** The two most recent steps' nonces, so the hot path rarely computes an HMAC. */
  #cache: { step: number; nonce: Buffer; text: string }[] = [];

  constructor(secret: string | Uint8Array, clock: Clock, stepSeconds = 60) {
    const key = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
    if (key.length < MIN_SECRET_BYTES)
      throw new RangeError(`DPoP nonce secret must be at least ${MIN_SECRET_BYTES} bytes`);
    if (!Number.isInteger(stepSeconds) || stepSeconds < 1)
      throw new RangeError("stepSeconds must be a positive integer");
    this.#key = key;
    this.#clock = clock;
    this.#stepMs = stepSeconds * 1000;
  }

  /** The nonce to hand out now (in the `DPoP-Nonce` response header). */
  current(): string {
    return this.#forStep(this.#step()).text;
  }

  /** Whether `nonce` was issued, with this secret, during the current or the previous step. */
  isValid(nonce: string): boolean {
    if (typeof nonce !== "string" || nonce.length !== 43) return false;
    const given = Buffer.from(nonce, "utf8");
    if (given.length !== 43) return false;
    const step = this.#step();
    // Both comparisons always run, so timing does not tell which step matched.
    const current = timingSafeEqual(given, this.#forStep(step).nonce);
    const previous = timingSafeEqual(given, this.#forStep(step - 1).nonce);
    return current || previous;
  }

  #step(): number {
    return Math.floor(this.#clock.now().getTime() / this.#stepMs);
  }

  #forStep(step: number): { nonce: Buffer; text: string } {
    const hit = this.#cache.find((entry) => entry.step === step);
    if (hit) return hit;
    const text = createHmac("sha256", this.#key).update(`${CONTEXT}${step}`).digest("base64url");
    const entry = { step, nonce: Buffer.from(text, "utf8"), text };
    this.#cache = [entry, ...this.#cache.slice(0, 1)];
    return entry;
  }
}
