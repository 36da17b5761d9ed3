import { ServiceUnavailableError } from "../../errors/app-error.js";

/**
 * The in-memory replay cache holds as many unexpired proof identifiers as it may: a new proof is
 * refused (retryable, 503) rather than accepted at the price of forgetting an unexpired one, which
 * would make that earlier proof replayable inside its window (RFC 9449 §11.1).
 */
export class ReplayCacheFullError extends ServiceUnavailableError {
  constructor() {
    super("DPoP proofs cannot be checked for replay right now, retry shortly");
  }
}
