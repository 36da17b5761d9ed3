import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, Lexer, Source, TokenKind, type ValidationContext, type ValidationRule } from "graphql";
import type { Config } from "../../config/config.js";

type Limits = Config["graphqlLimits"];

/** What Apollo Server takes from us: validation rules, parse options and one plugin. */
export interface GraphQLLimits {
  validationRules: ValidationRule[];
  parseOptions: { maxTokens: number };
  plugin: ApolloServerPlugin;
}

/**
 * Query-shape limits, each refused before anything executes, with a stable `reason`:
 * depth, cost, aliases and directives by graphql-armor's validation rules (code
 * GRAPHQL_VALIDATION_FAILED, HTTP 400); tokens by graphql-js's own `maxTokens` parse option
 * (GRAPHQL_PARSE_FAILED, HTTP 400), which stops lexing at the limit. graphql-armor's token plugin
 * is not used: it parses every document a second time and, thrown from `parsingDidStart`, turns
 * an oversized query into an HTTP 500.
 */
export function graphqlLimits(limits: Limits): GraphQLLimits {
  const reject = (reason: string) => ({
    // Report, don't throw: a thrown error would abort validation with a 500.
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { reason } }),
        ),
    ],
  });
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...reject("query_too_deep") },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, ...reject("query_too_costly") },
    maxAliases: { n: limits.maxAliases, ...reject("too_many_aliases") },
    maxDirectives: { n: limits.maxDirectives, ...reject("too_many_directives") },
    maxTokens: { enabled: false },
    // Replaced by hideSuggestions: armor's pattern misses "Did you mean the enum value …".
    blockFieldSuggestion: { enabled: false },
  });
  const { validationRules } = armor.protect();
  return {
    validationRules,
    parseOptions: { maxTokens: limits.maxTokens },
    plugin: tokenLimitReason(limits.maxTokens),
  };
}

/** Marks graphql-js's "too many tokens" parse failure with a reason clients can switch on. */
function tokenLimitReason(maxTokens: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart({ source }) {
          return async (error?: Error) => {
            if (error instanceof GraphQLError && countTokens(source, maxTokens + 1) > maxTokens) {
              (error.extensions as Record<string, unknown>).reason = "too_many_tokens";
            }
          };
        },
      };
    },
  };
}

/** Tokens in `source`, counting no further than `stop` (so a huge document costs little). */
function countTokens(source: string, stop: number): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (count < stop && lexer.advance().kind !== TokenKind.EOF) count++;
  } catch {
    // A lexing error is a syntax error of its own, not a token-limit one.
  }
  return count;
}
