import { describe, expect, it } from "vitest";
import type { DemoTokenEvent } from "../../../src/client/demo-token-tap.js";
import {
  createInProcessRefreshLock,
  createMemoryDpopKeyStore,
  MeDocument,
} from "../../../src/client/index.js";
import { ada, clientHarness } from "./support/client-harness.js";
import { FakeHoldfastServer } from "./support/fake-holdfast-server.js";
import { FakeTime } from "./support/fake-time.js";

// The demo console reads tokens only through `unsafeDemoTokenTap`, an option an application never
// sets (token-exposure.test.ts checks nothing leaks without it).

describe("unsafeDemoTokenTap (demo only)", () => {
  it("hands out each new access token once, saying whether it came from sign-in, a refresh or another tab", async () => {
    const time = new FakeTime();
    const server = new FakeHoldfastServer({ time });
    const keyStore = createMemoryDpopKeyStore();
    const lock = createInProcessRefreshLock();
    const seenA: DemoTokenEvent[] = [];
    const seenB: DemoTokenEvent[] = [];
    const a = clientHarness({
      time,
      fakeServer: server,
      keyStore,
      lock,
      unsafeDemoTokenTap: (e) => seenA.push(e),
    });
    // A second tab: same lock, key and server; it only listens.
    clientHarness({
      time,
      fakeServer: server,
      keyStore,
      lock,
      unsafeDemoTokenTap: (e) => seenB.push(e),
    });

    await a.client.login(ada);
    await a.client.request(MeDocument);
    time.advance(250_000);
    await a.client.request(MeDocument);

    expect(seenA.map((e) => e.via)).toEqual(["sign_in", "refresh"]);
    expect(seenA.map((e) => e.accessToken)).toEqual(server.issuedAccessTokens);
    expect(seenA[1]).toMatchObject({ sessionId: seenA[0]!.sessionId, tokenType: "DPoP" });
    expect(seenB.map((e) => e.via)).toEqual(["other_tab", "other_tab"]);
    expect(seenB.map((e) => e.accessToken)).toEqual(server.issuedAccessTokens);

    await a.client.logout();
    await a.client.login(ada);
    expect(seenA.at(-1)?.via).toBe("sign_in");
    expect(seenA.at(-1)?.sessionId).not.toBe(seenA[0]!.sessionId);
  });
});
