// A raw graphql-transport-ws client over `ws`, for tests that must see close codes and reasons
// exactly as a client would (the graphql-ws client hides some of them behind its retry logic).
import { WebSocket } from "ws";

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface ProtocolMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

export interface RawClient {
  readonly socket: WebSocket;
  /** Every message received, in order. */
  readonly messages: ProtocolMessage[];
  /** Resolves when the socket closes, with the server's code and reason. */
  readonly closed: Promise<Closed>;
  /** Whether the socket has closed yet (without waiting). */
  isClosed(): boolean;
  send(message: ProtocolMessage | string): void;
  /** Sends connection_init and resolves with the ack's payload; rejects with the close if refused. */
  init(payload?: Record<string, unknown>): Promise<unknown>;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  /** The next message (already received or still to come) matching `match`. */
  next(match: (m: ProtocolMessage) => boolean, timeoutMs?: number): Promise<ProtocolMessage>;
  /** The `next` payloads received for one subscription so far. */
  results(id: string): unknown[];
  close(): void;
}

export const NOTE_EVENTS = "subscription { noteEvents { kind noteId note { id title body owner { id } } } }";

export async function connect(
  baseUrl: string,
  options: { origin?: string; protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<RawClient> {
  const url = `${baseUrl.replace(/^http/, "ws")}/graphql`;
  const socket = new WebSocket(url, options.protocols ?? ["graphql-transport-ws"], {
    ...(options.origin ? { origin: options.origin } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const messages: ProtocolMessage[] = [];
  const waiters = new Set<() => void>();
  let isClosed = false;
  const closed = new Promise<Closed>((resolve) => {
    socket.on("close", (code, reason) => {
      isClosed = true;
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    });
  });
  socket.on("message", (data) => {
    messages.push(JSON.parse(data.toString()) as ProtocolMessage);
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once("error", reject);
  });

  const next = (match: (m: ProtocolMessage) => boolean, timeoutMs = 10_000, from = 0) =>
    new Promise<ProtocolMessage>((resolve, reject) => {
      let seen = from;
      const check = () => {
        for (; seen < messages.length; seen++) {
          const m = messages[seen]!;
          if (match(m)) {
            done();
            resolve(m);
            return;
          }
        }
        if (isClosed) {
          done();
          reject(new Error(`closed before the message came (${JSON.stringify(messages.slice(-3))})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message in ${timeoutMs} ms (${JSON.stringify(messages.slice(-3))})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const client: RawClient = {
    socket,
    messages,
    closed,
    isClosed: () => isClosed,
    send(message) {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    async init(payload) {
      client.send({ type: "connection_init", ...(payload ? { payload } : {}) });
      try {
        return (await next((m) => m.type === "connection_ack")).payload;
      } catch (error) {
        if (!isClosed) throw error;
        const c = await closed;
        throw Object.assign(new Error(`closed ${c.code} ${c.reason}`), c);
      }
    },
    subscribe(id, query, variables) {
      client.send({ id, type: "subscribe", payload: { query, ...(variables ? { variables } : {}) } });
    },
    next,
    results: (id) => messages.filter((m) => m.id === id && m.type === "next").map((m) => m.payload),
    close: () => socket.close(),
  };
  return client;
}

/** Waits for the close and returns it, failing after `timeoutMs`. */
export async function closeOf(client: RawClient, timeoutMs = 5000): Promise<Closed> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `authorization` of a connection_init carrying a Bearer access token. */
export const bearer = (token: string) => `Bearer ${token}`;
