/**
 * What one holder of a session tells the others (other tabs, other clients in the process). The access
 * token travels memory to memory; the refresh token never does.
 */
export type SessionMessage =
  | {
      readonly type: "tokens";
      readonly accessToken: string;
      readonly tokenType: "Bearer" | "DPoP";
      /** The server's expiry, ISO-8601. */
      readonly expiresAt: string;
      /** Expiry and refresh time on the shared wall clock (ms), already corrected for server skew. */
      readonly localExpiresAtMs: number;
      readonly refreshAtMs: number;
      readonly scopes: readonly string[];
      readonly sessionId: string;
    }
  /** Only holders of the same session act on these. */
  | { readonly type: "logout"; readonly sessionId: string }
  | { readonly type: "session_lost"; readonly reason: string; readonly sessionId: string };

export interface SessionChannel {
  /** Delivers to every other connection, not to this one. */
  publish(message: SessionMessage): void;
  close(): void;
}

/**
 * Serialises refreshes of one session across its holders, and carries the result to the others, so
 * that one refresh serves them all instead of each rotating the same refresh token.
 */
export interface RefreshLock {
  /** Runs `task` while no other holder runs one. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Joins the holders' channel; `onMessage` receives the others' messages. */
  connect(onMessage: (message: SessionMessage) => void): SessionChannel;
}

/**
 * The Node default: a promise-chain mutex, and a channel that delivers synchronously to the other
 * clients that share this lock (so when a holder gets the lock, the previous holder's news has arrived).
 */
export function createInProcessRefreshLock(): RefreshLock {
  let tail: Promise<unknown> = Promise.resolve();
  const listeners = new Set<(message: SessionMessage) => void>();

  return Object.freeze({
    run<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task);
      // The next holder waits for this one to settle, whether it succeeded or not.
      tail = result.catch(() => undefined);
      return result;
    },
    connect(onMessage: (message: SessionMessage) => void): SessionChannel {
      const own = (message: SessionMessage) => onMessage(message);
      listeners.add(own);
      return {
        publish(message) {
          for (const listener of [...listeners]) {
            if (listener === own) continue;
            try {
              listener(message);
            } catch {
              // One holder's failing listener must not stop delivery to the rest.
            }
          }
        },
        close() {
          listeners.delete(own);
        },
      };
    },
  });
}
