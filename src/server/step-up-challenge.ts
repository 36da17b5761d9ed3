import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLError } from "graphql";
import { InsufficientUserAuthenticationError } from "../errors/app-error.js";
import type { GraphQLContext } from "../graphql/context.js";
import { DPOP_ALGS } from "./challenge.js";

/**
 * RFC 9470 §3: the challenge of a refused step-up, in the scheme the token was presented with
 * (RFC 6750 §3 Bearer, RFC 9449 §7.1 DPoP): `error`, `acr_values` (space-separated, in order of
 * preference) and `max_age` (seconds), each quoted.
 */
export function stepUpChallenge(error: InsufficientUserAuthenticationError, usedDpop: boolean): string {
  const { acrValues, maxAge } = error.requirement;
  const parameters = [
    `error="insufficient_user_authentication"`,
    `error_description="${error.message.replace(/["\\]/g, "")}"`,
    ...(acrValues ? [`acr_values="${acrValues.join(" ")}"`] : []),
    ...(maxAge !== undefined ? [`max_age="${maxAge}"`] : []),
    ...(usedDpop ? [`algs="${DPOP_ALGS}"`] : []),
  ];
  return `${usedDpop ? "DPoP" : "Bearer"} ${parameters.join(", ")}`;
}

function stepUpRefusal(errors: readonly GraphQLError[]): InsufficientUserAuthenticationError | null {
  for (const error of errors) {
    if (error.originalError instanceof InsufficientUserAuthenticationError) return error.originalError;
  }
  return null;
}

/**
 * An operation refused whole for want of a recent authentication (no root field has a value)
 * answers HTTP 401 with RFC 9470's challenge, so HTTP-level clients see it like a bad token. A
 * partly answered operation stays HTTP 200: the refusal is in the field's error, with `acrValues`
 * and `maxAge` in its extensions.
 */
export function stepUpChallengePlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors, contextValue }) {
          if (response.body.kind !== "single" || !errors || errors.length === 0) return;
          const refusal = stepUpRefusal(errors);
          if (!refusal) return;
          const data = response.body.singleResult.data;
          const refusedWhole = data == null || Object.values(data).every((value) => value === null);
          if (!refusedWhole) return;
          response.http.status = 401;
          response.http.headers.set(
            "www-authenticate",
            stepUpChallenge(refusal, contextValue.viewer?.jkt != null),
          );
        },
      };
    },
  };
}
