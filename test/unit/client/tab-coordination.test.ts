import { afterEach, describe, expect, it, vi } from "vitest";
import { createWebLocksRefreshLock, type LockManagerLike } from "../../../src/client/browser.js";
import {
  createInProcessRefreshLock,
  createMemoryDpopKeyStore,
  type HoldfastClient,
  MeDocument,
  type RefreshLock,
} from "../../../src/client/index.js";
import { isSessionMessage } from "../../../src/client/web-locks-refresh-lock.js";
import { ada, clientHarness } from "./support/client-harness.js";
import { FakeHoldfastServer } from "./support/fake-holdfast-server.js";
import { FakeTime } from "./support/fake-time.js";

/** An exclusive Web Locks manager shared by the "tabs" of a test. */
class FakeLockManager implements LockManagerLike {
  readonly #held = new Set<string>();
  readonly #queues = new Map<string, (() => void)[]>();
  grants = 0;

  request<T>(name: string, ...args: unknown[]): Promise<T> {
    const callback = args.at(-1) as (lock: unknown) => Promise<T>;
    const options = (args.length === 2 ? args[0] : {}) as { ifAvailable?: boolean };
    if (options.ifAvailable && this.#held.has(name)) return callback(null);
    return this.#acquire(name).then(async () => {
      this.grants += 1;
      try {
        return await callback({ name });
      } finally {
        this.#release(name);
      }
    });
  }

  #acquire(name: string): Promise<void> {
    if (!this.#held.has(name)) {
      this.#held.add(name);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#queues.set(name, [...(this.#queues.get(name) ?? []), resolve]);
    });
  }

  #release(name: string): void {
    const next = this.#queues.get(name)?.shift();
    if (next) next();
    else this.#held.delete(name);
  }
}

const toClose: HoldfastClient[] = [];
afterEach(() => {
  for (const client of toClose.splice(0)) client.destroy();
});

/** Two "tabs": same origin (server, cookie, key store, clock), each with its own lock object. */
function twoTabs(makeLock: () => RefreshLock) {
  const time = new FakeTime();
  const server = new FakeHoldfastServer({ time });
  const keyStore = createMemoryDpopKeyStore();
  const tab = () => {
    const h = clientHarness({ time, fakeServer: server, keyStore, lock: makeLock() });
    toClose.push(h.client);
    return h;
  };
  return { time, server, a: tab(), b: tab() };
}

describe("refresh coordination between holders of one session", () => {
  it("in-process: a login in one client reaches the other; around expiry both share one refresh", async () => {
    const lock = createInProcessRefreshLock();
    const { time, server, a, b } = twoTabs(() => lock);
    await a.client.login(ada);
    expect(b.client.state().authenticated).toBe(true);
    time.advance(250_000);
    await time.run(Promise.all([a.client.request(MeDocument), b.client.request(MeDocument)]));
    expect(server.count("Refresh")).toBe(1);
    const meCalls = server.calls.filter((c) => c.operationName === "Me");
    expect(meCalls.map((c) => c.authorization)).toEqual([
      `DPoP ${server.issuedAccessTokens[1]}`,
      `DPoP ${server.issuedAccessTokens[1]}`,
    ]);
  });

  it("Web Locks + BroadcastChannel: one tab refreshes, the other takes its token instead of refreshing", async () => {
    const locks = new FakeLockManager();
    const channelName = `holdfast-test-${Math.random()}`;
    const { time, server, a, b } = twoTabs(() =>
      createWebLocksRefreshLock({ locks, channelName, settleMs: 500 }),
    );
    await a.client.login(ada);
    await vi.waitFor(() => expect(b.client.state().authenticated).toBe(true));
    time.advance(250_000);
    await time.run(Promise.all([a.client.request(MeDocument), b.client.request(MeDocument)]));
    expect(server.count("Refresh")).toBe(1);
    expect(locks.grants).toBe(2);
    expect(a.client.state().expiresAt).toEqual(b.client.state().expiresAt);
    const meCalls = server.calls.filter((c) => c.operationName === "Me");
    expect(new Set(meCalls.map((c) => c.authorization))).toEqual(
      new Set([`DPoP ${server.issuedAccessTokens[1]}`]),
    );
  });

  it("Web Locks: a tab whose refresh is not contended does not wait", async () => {
    const locks = new FakeLockManager();
    const lock = createWebLocksRefreshLock({
      locks,
      channelName: `holdfast-test-${Math.random()}`,
      settleMs: 60_000,
    });
    const started = Date.now();
    expect(await lock.run(async () => 42)).toBe(42);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("a logout in one tab logs the other out", async () => {
    const locks = new FakeLockManager();
    const channelName = `holdfast-test-${Math.random()}`;
    const { a, b } = twoTabs(() => createWebLocksRefreshLock({ locks, channelName }));
    await a.client.login(ada);
    await vi.waitFor(() => expect(b.client.state().authenticated).toBe(true));
    await a.client.logout();
    await vi.waitFor(() => expect(b.client.state().authenticated).toBe(false));
    expect(b.logouts).toEqual(["other_holder"]);
    expect(a.logouts).toEqual(["this_client"]);
  });

  it("theft detected in one holder ends the session in the others", async () => {
    const lock = createInProcessRefreshLock();
    const { time, server, a, b } = twoTabs(() => lock);
    await a.client.login(ada);
    time.advance(250_000);
    server.script("Refresh", {
      kind: "error",
      status: 401,
      code: "UNAUTHENTICATED",
      reason: "refresh_token_reused",
    });
    await a.client.request(MeDocument).catch(() => undefined);
    expect(a.lost).toEqual(["refresh_token_reused"]);
    expect(b.lost).toEqual(["refresh_token_reused"]);
    expect(b.client.state().authenticated).toBe(false);
  });

  it("a message about another session is ignored", async () => {
    const lock = createInProcessRefreshLock();
    const { a, b } = twoTabs(() => lock);
    await a.client.login(ada);
    const outsider = lock.connect(() => undefined);
    outsider.publish({ type: "logout", sessionId: "s_other" });
    outsider.close();
    expect(b.client.state().authenticated).toBe(true);
    expect(b.logouts).toEqual([]);
  });

  it("malformed channel messages are rejected", () => {
    expect(isSessionMessage(null)).toBe(false);
    expect(isSessionMessage({ type: "logout" })).toBe(false);
    expect(isSessionMessage({ type: "tokens", accessToken: 1 })).toBe(false);
    expect(isSessionMessage({ type: "logout", sessionId: "s" })).toBe(true);
  });
});
