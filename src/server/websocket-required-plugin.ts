import type { ApolloServerPlugin } from "@apollo/server";
import { BadUserInputError } from "../errors/app-error.js";
import { toGraphQLError } from "../errors/format-error.js";
import type { GraphQLContext } from "../graphql/context.js";

/**
 * A subscription sent over HTTP is refused whole, as BAD_USER_INPUT `websocket_required` with
 * HTTP 400, before any field runs: Apollo would otherwise execute it like a query, calling the
 * field's `resolve` with no event (a masked internal error), and never its `subscribe`.
 */
export function websocketRequiredPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== "subscription") return;
          throw toGraphQLError(
            new BadUserInputError("websocket_required", "Subscriptions are served over WebSocket"),
            {},
          );
        },
      };
    },
  };
}
