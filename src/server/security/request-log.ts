import { randomUUID } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { tokenFingerprint } from "../../logger.js";

/** What a request learns about itself on the way through, for its one log line. */
interface RequestFacts {
  viewerId: string | null;
  sessionId: string | null;
  operation: string | null;
  operationType: string | null;
  /** The codes the client received (extensions.code), and their reasons, once each. */
  errorCodes: string[];
  reasons: string[];
  /** Ids of masked internal errors (formatError logs each with its cause). */
  correlationIds: string[];
}

const factsByRequest = new WeakMap<FastifyRequest, RequestFacts>();
// On the context value itself: Apollo hands plugins a shallow copy, which keeps symbol keys.
const FACTS = Symbol("holdfast.requestFacts");

function factsOf(request: FastifyRequest): RequestFacts {
  let facts = factsByRequest.get(request);
  if (!facts) {
    facts = {
      viewerId: null,
      sessionId: null,
      operation: null,
      operationType: null,
      errorCodes: [],
      reasons: [],
      correlationIds: [],
    };
    factsByRequest.set(request, facts);
  }
  return facts;
}

/** Request ids are ours alone: a client-chosen id could impersonate another request in the log. */
export function generateRequestId(): string {
  return randomUUID();
}

/**
 * One JSON line per request, written when the response is done: request id, method, path
 * (never the query string: it may carry a token), status, duration, client address, viewer,
 * session, GraphQL operation and error codes, and the bearer credential only as a fingerprint.
 * Bodies and headers are never logged, so passwords and refresh tokens cannot reach the log.
 */
export function installRequestLog(app: FastifyInstance, logger: Logger): void {
  app.addHook("onRequest", async (request, reply) => {
    factsOf(request);
    void reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const status = reply.statusCode;
    const facts = factsOf(request);
    // Error level only for a real internal error; a dependency outage (503) is a warning, and
    // refusals the client caused (401, 403, 429, bad input) are ordinary answers.
    const internal = status === 500 || facts.errorCodes.includes("INTERNAL_SERVER_ERROR");
    const outage = status >= 500 || facts.errorCodes.includes("SERVICE_UNAVAILABLE");
    const level = internal ? "error" : outage ? "warn" : "info";
    // A line the level drops costs nothing: no object, no credential fingerprint (a SHA-256).
    if (!logger.isLevelEnabled(level)) return;
    const line = {
      reqId: request.id,
      method: request.method,
      path: (request.url.split("?", 1)[0] ?? "").slice(0, 200),
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
      viewerId: facts.viewerId,
      sessionId: facts.sessionId,
      operation: facts.operation,
      operationType: facts.operationType,
      ...(facts.errorCodes.length > 0 ? { errors: facts.errorCodes } : {}),
      ...(facts.reasons.length > 0 ? { reasons: facts.reasons } : {}),
      ...(facts.correlationIds.length > 0 ? { correlationIds: facts.correlationIds } : {}),
      ...credentialFingerprint(request),
    };
    logger[level](line, "request");
  });
}

function credentialFingerprint(request: FastifyRequest): { tokenFp?: string } {
  const header = request.headers.authorization;
  if (typeof header !== "string") return {};
  const token = /^(?:bearer|dpop) +(\S+)$/i.exec(header)?.[1];
  return token ? { tokenFp: tokenFingerprint(token) } : {};
}

/**
 * Wraps the GraphQL context function so the request's log line learns the viewer and session,
 * and Apollo's hooks (which see the context, not the HTTP request) can find the request.
 */
export function withRequestLog<C extends { viewer: { userId: string; sessionId: string } | null }>(
  context: (request: FastifyRequest, reply: FastifyReply) => Promise<C>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<C> {
  return async (request, reply) => {
    const facts = factsOf(request);
    let value: C;
    try {
      value = await context(request, reply);
    } catch (error) {
      // A refusal of the context phase (401, 503) is answered as it is: record what the client gets.
      const extensions = (error as { extensions?: Record<string, unknown> }).extensions;
      if (extensions) recordError(facts, extensions);
      throw error;
    }
    facts.viewerId = value.viewer?.userId ?? null;
    facts.sessionId = value.viewer?.sessionId ?? null;
    Object.defineProperty(value, FACTS, { value: facts, enumerable: true });
    return value;
  };
}

/** Records the resolved operation name and the error codes for the request's log line. */
export function requestLogPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const facts = (contextValue as { [FACTS]?: RequestFacts })[FACTS];
      if (!facts) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          facts.operation = operationName;
          facts.operationType = operation?.operation ?? null;
        },
        // The formatted errors: the codes and reasons the client receives, not the raw errors
        // (a typed refusal thrown by a resolver is not yet coded there).
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          for (const error of response.body.singleResult.errors ?? [])
            recordError(facts, error.extensions ?? {});
        },
      };
    },
  };
}

function recordError(facts: RequestFacts, extensions: Record<string, unknown>): void {
  const code = typeof extensions.code === "string" ? extensions.code : "INTERNAL_SERVER_ERROR";
  if (!facts.errorCodes.includes(code)) facts.errorCodes.push(code);
  const reason = extensions.reason;
  if (typeof reason === "string" && !facts.reasons.includes(reason)) facts.reasons.push(reason);
  const correlationId = extensions.correlationId;
  if (typeof correlationId === "string") facts.correlationIds.push(correlationId);
}
