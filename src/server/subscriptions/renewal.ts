import type { Logger } from "pino";
import type { Authentication } from "../../auth/authenticate.js";
import {
  type AuthenticationDeps,
  authenticatePayload,
  payloadValues,
  refuse,
} from "./connection-authentication.js";
import type { LiveConnection } from "./live-connection.js";

/**
 * A `ping` (DESIGN.md, Subscriptions): a plain one is answered with a plain pong (never echoing
 * the payload: it may carry a token); one carrying an authorization, read as connection_init's
 * keys are (case-insensitive), renews the connection's token in band for the same session.
 */
export async function answerPing(
  connection: LiveConnection,
  payload: Record<string, unknown> | undefined,
  auth: AuthenticationDeps,
  logger: Logger,
): Promise<void> {
  if (payloadValues(payload, "authorization").length === 0) {
    await connection.send(JSON.stringify({ type: "pong" }));
    return;
  }
  let renewed: Authentication;
  try {
    renewed = await authenticatePayload(payload, auth);
  } catch (error) {
    refuse(connection, error, logger);
    return;
  }
  if (!renewed.viewer || renewed.viewer.sessionId !== connection.viewer?.sessionId) {
    connection.close(4403, "session_mismatch");
    return;
  }
  connection.authenticated(renewed);
  const expiresAt = new Date(renewed.viewer.expiresAt * 1000).toISOString();
  await connection.send(JSON.stringify({ type: "pong", payload: { expiresAt } }));
}
