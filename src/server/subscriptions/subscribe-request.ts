import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import type { SubscribePayload } from "graphql-ws";
import type { Logger } from "pino";
import { withoutSuggestions } from "../security/hide-suggestions.js";

export interface SubscribeRequestRules {
  readonly schema: GraphQLSchema;
  /** The HTTP validation rules and parse options (depth, cost, aliases, directives, tokens). */
  readonly validationRules: readonly ValidationRule[];
  readonly parseOptions: { maxTokens: number };
  /** Only development shows the schema's names in "Did you mean …". */
  readonly development: boolean;
  readonly logger: Logger;
}

const clientError = (message: string, code: string, reason?: string) =>
  new GraphQLError(message, { extensions: { code, ...(reason ? { reason } : {}) } });

/**
 * A `subscribe` message's document, parsed and validated as over HTTP, or the client errors that
 * answer it. Every refusal here is the client's: none reaches the error log.
 */
export function checkSubscribeRequest(
  payload: SubscribePayload,
  rules: SubscribeRequestRules,
): DocumentNode | readonly GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(payload.query, rules.parseOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : "Syntax error";
    const tooLong = /more than \d+ tokens/.test(message);
    return [clientError(message, "GRAPHQL_PARSE_FAILED", tooLong ? "too_many_tokens" : undefined)];
  }
  const invalid = validate(rules.schema, document, [...specifiedRules, ...rules.validationRules]);
  if (invalid.length > 0) {
    return invalid.map(
      (error) =>
        new GraphQLError(rules.development ? error.message : withoutSuggestions(error.message), {
          ...(error.nodes ? { nodes: error.nodes } : {}),
          extensions: { ...error.extensions, code: "GRAPHQL_VALIDATION_FAILED" },
        }),
    );
  }
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) {
    // Several operations and no operationName, or a name the document does not define: the
    // client's mistake, answered as one (graphql-js would fail it later, as an internal error).
    rules.logger.info(
      { operationName: payload.operationName ?? null },
      "subscribe refused: no operation to run in the document",
    );
    return [
      clientError(
        payload.operationName
          ? `No operation named "${payload.operationName}" in the document`
          : "The document has several operations: name the one to run in operationName",
        "BAD_USER_INPUT",
        "operation_not_found",
      ),
    ];
  }
  if (operation.operation !== "subscription") {
    // Queries and mutations have one home, HTTP, with its cookies, limits and logs.
    return [
      clientError(
        "Queries and mutations are served over HTTP; use WebSocket for subscriptions",
        "BAD_USER_INPUT",
        "subscriptions_only",
      ),
    ];
  }
  return document;
}
