import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { DpopNonceRequiredError, UnauthenticatedError } from "../errors/app-error.js";

export const DPOP_ALGS = "EdDSA ES256";

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "")}"`;
}

/**
 * The WWW-Authenticate challenge for a refused token or proof: RFC 6750 §3 for Bearer,
 * RFC 9449 §7.1 for DPoP (with the accepted `algs`), and a `DPoP-Nonce` header when a nonce is due.
 */
export function challengeHeaders(
  error: UnauthenticatedError,
  usedDpop: boolean,
  resourceMetadata?: string,
): Map<string, string> {
  const headers = new Map<string, string>();
  // RFC 9728 §5.1: where a client finds this resource's metadata (its authorization server, scopes).
  const description = `${quote(error.message)}${resourceMetadata ? `, resource_metadata=${quote(resourceMetadata)}` : ""}`;
  switch (error.reason) {
    case "use_dpop_nonce":
      headers.set(
        "www-authenticate",
        `DPoP error="use_dpop_nonce", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      if (error instanceof DpopNonceRequiredError) headers.set("dpop-nonce", error.nonce);
      break;
    case "invalid_dpop_proof":
      headers.set(
        "www-authenticate",
        `DPoP error="invalid_dpop_proof", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      break;
    case "dpop_required":
      headers.set(
        "www-authenticate",
        `DPoP error="invalid_token", error_description=${description}, algs=${quote(DPOP_ALGS)}`,
      );
      break;
    default:
      headers.set(
        "www-authenticate",
        usedDpop
          ? `DPoP error="invalid_token", error_description=${description}, algs=${quote(DPOP_ALGS)}`
          : `Bearer error="invalid_token", error_description=${description}`,
      );
  }
  return headers;
}

/** Reasons that mean "this request's DPoP proof or key binding is wrong": a 401 wherever they arise. */
const DPOP_REASONS: ReadonlySet<string> = new Set(["dpop_required", "invalid_dpop_proof", "use_dpop_nonce"]);

/**
 * The same 401 challenge for DPoP refusals raised after the context phase: `login`, `register` and
 * `refresh` check the proof's key against the account flow (DPOP=required, a bound refresh family,
 * RFC 9449 §5), which only a resolver can do. Without this their refusal would be an HTTP 200.
 */
export function dpopChallengePlugin(resourceMetadata?: string): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, response }) {
          for (const error of errors) {
            const original = error.originalError;
            if (!(original instanceof UnauthenticatedError) || !DPOP_REASONS.has(original.reason)) continue;
            response.http.status = 401;
            for (const [name, value] of challengeHeaders(original, true, resourceMetadata))
              response.http.headers.set(name, value);
            return;
          }
        },
      };
    },
  };
}
