import { type Client, createClient } from "graphql-ws";
import type { ClientCore } from "./client-core.js";
import type { TokenState } from "./session-holder.js";

/** The WebSocket constructor: the browser's, or `ws`'s in Node (`import { WebSocket } from "ws"`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export interface LiveOptions {
  /** Default: `globalThis.WebSocket` (browsers, Node 22+). */
  readonly webSocket?: WebSocketConstructor;
}

interface OpenSocket {
  readonly readyState: number;
  send(data: string): void;
}

/** The one GraphQL-over-WebSocket connection the subscriptions share, and the token it holds. */
export interface LiveConnection {
  /** The graphql-ws client, created on first use and again after a close. */
  client(): Client;
  /** Sends the session's new token (and proof) in band, as a `ping`, when it renews the connection's. */
  renew(state: TokenState): void;
  /** One refresh for a 4401 that a new token may cure; true when the caller may reconnect. */
  recover(reason: string): Promise<boolean>;
  /** Drops the connection and the tokens it held. */
  terminate(): void;
}

/**
 * The connection half of `liveSubscriptions`: connection_init with the access token (and a DPoP
 * proof for GET of the endpoint), renewal in band, and the refresh before a reconnect.
 */
export function liveConnection(core: ClientCore, options: LiveOptions): LiveConnection {
  const url = core.transport.endpoint.replace(/^http/, "ws");
  let client: Client | null = null;
  let socket: OpenSocket | null = null;
  /**
   * The token the server holds for the connection: sent at init, or a renewal it answered. A renewal
   * still in flight is not held yet: a 4401 `token_expired` that crosses it is about the token before.
   */
  let held: TokenState | null = null;
  /** Renewals sent on this connection and not yet answered, oldest first. */
  let renewals: TokenState[] = [];
  const latestSent = () => renewals.at(-1) ?? held;

  const payloadFor = async (token: TokenState) => ({
    authorization: `${token.tokenType} ${token.accessToken}`,
    ...(token.tokenType === "DPoP"
      ? {
          dpop: await core.transport.proof({
            htm: "GET",
            htu: core.transport.endpoint,
            accessToken: token.accessToken,
          }),
        }
      : {}),
  });

  function connection(): Client {
    if (client) return client;
    const impl = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl)
      throw new TypeError("subscribe() needs a WebSocket: pass `webSocket` (the `ws` package in Node)");
    const created = createClient({
      url,
      webSocketImpl: impl,
      lazy: true,
      // Reconnects are decided here (4401: one refresh first), not by graphql-ws's retry loop.
      retryAttempts: 0,
      connectionParams: async () => {
        const token = await core.tokenForRequest();
        held = token;
        renewals = [];
        return token ? await payloadFor(token) : {};
      },
      on: {
        connected: (raw) => {
          socket = raw as OpenSocket;
        },
        // The server answers a renewal with the new token's expiry: from then on it holds that token.
        pong: (received, payload) => {
          const expiresAt = received ? Date.parse(String(payload?.expiresAt)) : Number.NaN;
          const index = renewals.findIndex((token) => token.expiresAt.getTime() === expiresAt);
          if (index < 0) return;
          held = renewals[index] ?? held;
          renewals = renewals.slice(index + 1);
        },
        closed: () => {
          socket = null;
          if (client === created) client = null;
        },
      },
    });
    client = created;
    return created;
  }

  function renew(state: TokenState): void {
    const sent = latestSent();
    if (socket && sent && state.sessionId === sent.sessionId && state.accessToken !== sent.accessToken) {
      const target = socket;
      renewals.push(state);
      void payloadFor(state).then((payload) => {
        if (target.readyState === 1) target.send(JSON.stringify({ type: "ping", payload }));
      });
    }
  }

  /**
   * A 4401 that a new token may cure (expired, invalid): refresh once. An expiry is about the token
   * the server held, so when a fresh renewal crossed the close the client reconnects with it and does
   * not refresh again; any other reason may be about the renewal itself, which a refresh replaces.
   */
  async function recover(reason: string): Promise<boolean> {
    const stale = (reason === "token_expired" ? held : latestSent()) ?? core.session.current;
    if (!stale) return false;
    try {
      await core.refresher.refresh(stale, "replace");
      return true;
    } catch {
      return false;
    }
  }

  function terminate(): void {
    client?.terminate();
    client = null;
    held = null;
    renewals = [];
  }

  return { client: connection, renew, recover, terminate };
}
