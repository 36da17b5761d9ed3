import type { ApolloServerPlugin } from "@apollo/server";

// graphql-js's forms: `Did you mean "x"?`, `Did you mean "x" or "y"?`, `Did you mean the enum
// value "X"?`, `Did you mean to use an inline fragment on "T"?`. Names never contain "?".
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** The message without graphql-js's suggestions (for transports other than Apollo's HTTP). */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, "");
}

/**
 * Production only: graphql-js answers a typo with the names it knows ("Did you mean …"), which
 * hands out the schema that disabled introspection keeps to itself. Development keeps them for
 * Sandbox. Runs before formatError, on parse, validation and variable-coercion errors alike.
 */
export function hideSuggestions(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(SUGGESTION, "");
        },
      };
    },
  };
}
