import {
  createInProcessRefreshLock,
  type RefreshLock,
  type SessionChannel,
  type SessionMessage,
} from "./refresh-lock.js";

/** The part of `navigator.locks` (Web Locks API) this lock uses. */
export interface LockManagerLike {
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

export interface WebLocksRefreshLockOptions {
  /** Default `holdfast-refresh`. */
  readonly lockName?: string;
  /** Default `holdfast`. */
  readonly channelName?: string;
  /** Default `navigator.locks`; without it, tabs are not coordinated (an in-tab mutex still is). */
  readonly locks?: LockManagerLike;
  /** Default the global `BroadcastChannel`. */
  readonly BroadcastChannel?: new (
    name: string,
  ) => BroadcastChannel;
  /**
   * A tab that had to wait for the lock waits at most this long (ms) for the previous holder's news
   * before refreshing itself: a lock grant and a channel message are separate tasks, in no fixed order.
   * The wait ends as soon as the message lands, so the bound only costs time when the previous
   * holder did not refresh (its refresh failed on the network). Measured in Chromium at load 8 on
   * two cores: the message and the grant land within about 20 ms of each other. Default 1000.
   */
  readonly settleMs?: number;
}

/**
 * The browser default: the Web Locks API serialises refreshes across the tabs of one origin, and a
 * BroadcastChannel hands the result to the other tabs.
 *
 * Why the access token crosses tabs: it lives in no storage, so a tab that did not refresh has no
 * other way to get it except refreshing itself — rotating the shared refresh cookie once per tab,
 * which is wasted work and, outside the reuse grace interval, looks like theft. A BroadcastChannel is
 * same-origin and memory to memory: nothing is written to disk, and a script that can listen on it
 * already runs in our origin, where it could call the client, or read the token from fetch, anyway.
 * The token is DPoP-bound to a non-extractable key that only this origin can use, so what crosses is
 * worthless outside it. The refresh token never crosses: it stays in its HttpOnly cookie.
 */
export function createWebLocksRefreshLock(options: WebLocksRefreshLockOptions = {}): RefreshLock {
  const lockName = options.lockName ?? "holdfast-refresh";
  const channelName = options.channelName ?? "holdfast";
  const settleMs = options.settleMs ?? 1000;
  const locks = options.locks ?? defaultLocks();
  const Channel = options.BroadcastChannel ?? globalThis.BroadcastChannel;
  const fallback = createInProcessRefreshLock();

  let messagesReceived = 0;
  const waiters = new Set<() => void>();
  const noteMessage = () => {
    messagesReceived += 1;
    for (const wake of [...waiters]) wake();
  };
  const waitForMessage = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  return Object.freeze({
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (!locks) return fallback.run(task);
      const before = messagesReceived;
      const uncontended = await locks.request(lockName, { ifAvailable: true }, async (lock) =>
        lock ? { value: await task() } : null,
      );
      if (uncontended) return uncontended.value;
      return locks.request(lockName, async () => {
        // Another tab held the lock: it probably just refreshed. Give its message a moment to land, so
        // the task finds the session fresh and does not rotate the refresh cookie a second time.
        if (messagesReceived === before) await waitForMessage(settleMs);
        return task();
      });
    },

    connect(onMessage: (message: SessionMessage) => void): SessionChannel {
      if (!Channel) return { publish() {}, close() {} };
      const channel = new Channel(channelName);
      channel.onmessage = (event: MessageEvent) => {
        if (!isSessionMessage(event.data)) return;
        noteMessage();
        onMessage(event.data);
      };
      return {
        publish(message) {
          channel.postMessage(message);
        },
        close() {
          channel.onmessage = null;
          channel.close();
        },
      };
    },
  });
}

function defaultLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/** Same-origin messages only, but still checked: a malformed one must not break the session. */
export function isSessionMessage(value: unknown): value is SessionMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "logout":
      return typeof m.sessionId === "string";
    case "session_lost":
      return typeof m.reason === "string" && typeof m.sessionId === "string";
    case "tokens":
      return (
        typeof m.accessToken === "string" &&
        (m.tokenType === "Bearer" || m.tokenType === "DPoP") &&
        typeof m.expiresAt === "string" &&
        typeof m.localExpiresAtMs === "number" &&
        typeof m.refreshAtMs === "number" &&
        Array.isArray(m.scopes) &&
        m.scopes.every((s) => typeof s === "string") &&
        typeof m.sessionId === "string"
      );
    default:
      return false;
  }
}
