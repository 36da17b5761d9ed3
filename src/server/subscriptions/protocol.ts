import { createHash } from "node:crypto";
import {
  type ExecutionResult,
  type FormattedExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
} from "graphql";
import { makeServer, type ServerOptions, type SubscribePayload } from "graphql-ws";
import type { Logger } from "pino";
import type { Config } from "../../config/config.js";
import type { GraphQLContext } from "../../graphql/context.js";
import type { ComposedSchema } from "../../graphql/schema.js";
import type { RevocationFreshness } from "../revocation-freshness.js";
import { type AuthenticationDeps, authenticatePayload, refuse } from "./connection-authentication.js";
import type { ConnectionRegistry } from "./connection-registry.js";
import type { LiveConnection } from "./live-connection.js";
import { checkSubscribeRequest, type SubscribeRequestRules } from "./subscribe-request.js";
import { subscriptionCost } from "./subscription-budget.js";
import { eventOfResult, subscribePerEvent } from "./subscription-execution.js";

export type ProtocolExtra = { connection: LiveConnection };

export interface ProtocolDeps extends Omit<SubscribeRequestRules, "development"> {
  readonly config: Pick<Config, "env" | "subscriptions">;
  readonly logger: Logger;
  readonly auth: AuthenticationDeps;
  readonly registry: ConnectionRegistry;
  readonly freshness: RevocationFreshness;
  /** The HTTP formatError: typed errors keep code and reason, the rest is masked. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** How widely one rendering of an event may be shared; absent, every subscription renders its own. */
  readonly renderSharing?: ComposedSchema["renderSharing"] | undefined;
}

/** The request's part of a render key: document, operation and variables, hashed once at subscribe. */
function requestKey(payload: SubscribePayload): string {
  const request = JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null]);
  return createHash("sha256").update(request).digest("base64url");
}

/**
 * graphql-ws's protocol core with Holdfast's rules: connection_init authenticated as HTTP, the
 * per-session and per-connection limits, documents checked as over HTTP, and every event run with
 * a fresh context of its connection (the viewer at delivery).
 */
export function createProtocol(deps: ProtocolDeps) {
  const { config, logger, registry } = deps;
  const limits = config.subscriptions;
  const connectionOf = new WeakMap<object, LiveConnection>();
  const renderingOf = new WeakMap<object, { request: string; sharing: "scopes" | "user" | "viewer" }>();
  const renderSharing = limits.renderCache ? deps.renderSharing : undefined;
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((error) => deps.formatError(error.toJSON(), error));
  // A shared rendering is formatted once too (masking, and its log line, once per outcome).
  const formatted = new WeakMap<ExecutionResult, FormattedExecutionResult>();
  const formattedOnce = (result: ExecutionResult & { errors: readonly GraphQLError[] }) => {
    let found = formatted.get(result);
    if (!found) {
      found = { data: result.data ?? null, errors: format(result.errors) };
      formatted.set(result, found);
    }
    return found;
  };
  const rules: SubscribeRequestRules = { ...deps, development: config.env === "development" };

  const onConnect: ServerOptions<Record<string, unknown> | undefined, ProtocolExtra>["onConnect"] = async (
    ctx,
  ) => {
    const { connection } = ctx.extra;
    try {
      const authentication = await authenticatePayload(ctx.connectionParams, deps.auth);
      const sessionId = authentication.viewer?.sessionId;
      if (sessionId && deps.freshness.stale()) {
        // As the sweep does for open connections: try again later, or elsewhere.
        connection.close(1013, "revocation_state_stale");
        return false;
      }
      if (sessionId && registry.sessionCount(sessionId) >= limits.connectionsPerSession) {
        connection.close(1008, "too_many_connections");
        return false;
      }
      if (connection.isClosed) return false;
      connection.authenticated(authentication);
      const expiresAt = authentication.viewer ? new Date(authentication.viewer.expiresAt * 1000) : null;
      return expiresAt ? { expiresAt: expiresAt.toISOString() } : true;
    } catch (error) {
      refuse(connection, error, logger);
      return false;
    }
  };

  return makeServer<Record<string, unknown> | undefined, ProtocolExtra>({
    schema: deps.schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect,
    onSubscribe: (ctx, id, payload) => {
      // The entry for this id is already in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > limits.perConnection) {
        return [
          new GraphQLError(`At most ${limits.perConnection} subscriptions per connection`, {
            extensions: { code: "TOO_MANY_REQUESTS", reason: "too_many_subscriptions" },
          }),
        ];
      }
      const checked = checkSubscribeRequest(payload, rules);
      if (Array.isArray(checked)) return checked as GraphQLError[];
      const document = checked as Exclude<typeof checked, readonly GraphQLError[]>;
      const cost = subscriptionCost(deps.schema, document, payload.operationName, payload.variables);
      const over = ctx.extra.connection.reserve(id, cost);
      if (over) return [budgetExceeded(over, cost, limits)];
      const contextValue = ctx.extra.connection.context();
      connectionOf.set(contextValue, ctx.extra.connection);
      if (renderSharing) {
        const sharing = renderSharing(document, payload.operationName);
        renderingOf.set(contextValue, { request: requestKey(payload), sharing });
      }
      return {
        schema: deps.schema,
        document,
        ...(payload.operationName ? { operationName: payload.operationName } : {}),
        ...(payload.variables ? { variableValues: payload.variables } : {}),
        contextValue,
      };
    },
    subscribe: (args) => {
      const connection = connectionOf.get(args.contextValue as GraphQLContext);
      if (!connection) throw new Error("subscription without a connection");
      const rendering = renderingOf.get(args.contextValue as GraphQLContext);
      return subscribePerEvent(
        args,
        (event) => connection.context(event),
        () => connection.admit(),
        rendering && (() => `${rendering.request} ${connection.renderKey(rendering.sharing)}`),
      );
    },
    onNext: (ctx, id, _payload, _args, result) => {
      ctx.extra.connection.eventBytes.sending(id, eventOfResult(result));
      return result.errors
        ? formattedOnce(result as ExecutionResult & { errors: GraphQLError[] })
        : undefined;
    },
    onComplete: (ctx, id) => ctx.extra.connection.release(id),
    onError: (_ctx, _id, _payload, errors) => format(errors),
  });
}

/** A subscribe past the budget: refused whole, before anything runs; the others go on. */
function budgetExceeded(
  over: "connection" | "user",
  cost: number,
  limits: Pick<Config["subscriptions"], "costPerConnection" | "costPerUser">,
): GraphQLError {
  const budget = over === "connection" ? limits.costPerConnection : limits.costPerUser;
  return new GraphQLError(
    `This subscription (cost ${cost}) would exceed the ${over}'s subscription budget of ${budget}`,
    { extensions: { code: "TOO_MANY_REQUESTS", reason: "subscription_budget_exceeded", budget: over, cost } },
  );
}
