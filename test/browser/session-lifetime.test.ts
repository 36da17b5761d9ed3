import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  openDemoBrowser,
  refreshTimings,
  registerThroughPage,
  reloadData,
  statusOf,
  useChromiumAndDemo,
  waitForSettledState,
  withSignedInTab,
} from "./support/demo-harness.js";

// One browser and one server for the file: each test has its own context (cookies, IndexedDB, clock)
// and its own account.
const { browser, demo } = useChromiumAndDemo();

const TTL_MS = ACCESS_TOKEN_TTL_SECONDS * 1000;

describe("a browser session on the demo page", () => {
  it("stays signed in across a page reload: the DPoP key comes back from IndexedDB, the token from the refresh cookie", async () => {
    const tab = await openDemoBrowser(browser, demo);
    try {
      const page = await tab.openTab();
      expect((await statusOf(page)).state).toBe("signed-out");
      const { displayName } = await registerThroughPage(page);

      await page.reload();
      const status = await waitForSettledState(page, 1);
      expect(status.state).toBe("signed-in");
      expect(await page.textContent("#me-name")).toBe(displayName);
      await expect.poll(() => page.locator('#sessions li[data-current="true"]').count()).toBe(1);

      await tab.log.settled();
      // The reload's resume: one refresh, answered with a DPoP-bound token.
      const refreshes = tab.log.of("Refresh");
      expect(refreshes).toHaveLength(2); // the fresh page's probe (no cookie yet), then the resume
      expect(refreshes[0]?.errors).toEqual(["UNAUTHENTICATED/invalid_refresh_token"]);
      expect(refreshes[1]?.status).toBe(200);
      expect(refreshes[1]?.errors).toEqual([]);
      const me = tab.log.of("Me").at(-1);
      expect(me?.authorization).toMatch(/^DPoP /);
      expect(me?.dpop).toBeTruthy();
      expect(tab.pageErrors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it("refreshes ahead of expiry while the user keeps working through four token lifetimes, and no call fails", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const rotatedBefore = await demo.auditCount("refresh_token.rotated");

      // A call every 25 s of server and browser time, through four lifetimes and more. Refresh-ahead is
      // due at 80% of the 60 s lifetime (48 s), so every second call (50 s into a token's life) must
      // refresh, 10 s before expiry.
      const steps = 10;
      for (let step = 0; step < steps; step++) {
        await tab.warp(25_000);
        const status = await reloadData(page);
        expect(status.state, status.text).toBe("signed-in");
      }
      await tab.log.settled();

      // No call failed: every answer was a 200 without errors.
      const calls = tab.log.exchanges.filter((e) => e.operationName !== "Refresh");
      expect(calls.length).toBeGreaterThanOrEqual(steps * 3);
      expect(calls.filter((e) => e.status !== 200 || e.errors.length > 0)).toEqual([]);

      // Each refresh came after 80% of the replaced token's life, and before its expiry.
      const timings = refreshTimings(tab.log, TTL_MS);
      expect(timings).toHaveLength(steps / 2);
      for (const { ageMs, leftMs } of timings) {
        expect(ageMs).toBeGreaterThanOrEqual(0.8 * TTL_MS);
        expect(leftMs).toBeGreaterThan(0);
      }
      // Every call carried a token still valid on the server's clock when it was sent.
      const issued = tab.log.exchanges.filter((e) => e.status === 200 && e.expiresAt);
      for (const call of calls) {
        const token = issued.filter((e) => e.sentAt <= call.sentAt).at(-1);
        expect(token?.expiresAt?.getTime()).toBeGreaterThan(call.sentAt.getTime());
      }
      // The server agrees: 4 rotations (the three concurrent calls at each due point shared one).
      expect((await demo.auditCount("refresh_token.rotated")) - rotatedBefore).toBe(steps / 2);
      expect(await demo.auditCount("refresh_token.reuse_detected")).toBe(0);
      expect((await statusOf(page)).refreshes).toBe(steps / 2);
      expect(tab.pageErrors).toEqual([]);
    });
  }, 60_000);
});

describe("a browser whose clock is minutes off the server's", () => {
  for (const skewMinutes of [-7, 7]) {
    const label = `${Math.abs(skewMinutes)} minutes ${skewMinutes < 0 ? "behind" : "ahead"}`;
    it(`signs in, proves its key, and refreshes ahead of expiry with its clock ${label}`, async () => {
      const tab = await openDemoBrowser(browser, demo, { clockSkewMs: skewMinutes * 60_000 });
      try {
        const page = await tab.openTab();
        // DPoP proofs carry iat on the server's clock (from its Date header), or the server refuses them.
        await registerThroughPage(page);
        for (let step = 0; step < 4; step++) {
          await tab.warp(25_000);
          const status = await reloadData(page);
          expect(status.state, status.text).toBe("signed-in");
        }
        await tab.log.settled();
        // Lifetimes measured on the server's clock: a clock ahead would take every token for expired and
        // refresh at every call, one behind would take them for fresh and let them lapse.
        const timings = refreshTimings(tab.log, TTL_MS);
        expect(timings).toHaveLength(2);
        for (const { ageMs, leftMs } of timings) {
          expect(ageMs).toBeGreaterThanOrEqual(0.8 * TTL_MS);
          expect(leftMs).toBeGreaterThan(0);
        }
        const calls = tab.log.exchanges.filter((e) => e.operationName !== "Refresh");
        expect(calls.filter((e) => e.status !== 200 || e.errors.length > 0)).toEqual([]);
        expect(tab.pageErrors).toEqual([]);
      } finally {
        await tab.close();
      }
    });
  }
});

describe("two tabs of one session", () => {
  it("refresh once per rotation when both make calls around expiry, and never trip reuse detection", async () => {
    await withSignedInTab(browser, demo, async (first, tabs) => {
      // The second tab resumes from the shared cookie; its refresh reaches the first tab as a message.
      const second = await tabs.openTab();
      await tabs.log.settled();
      const successful = () =>
        tabs.log.of("Refresh").filter((e) => e.status === 200 && e.errors.length === 0);
      expect(successful()).toHaveLength(1);
      const rotatedBefore = await demo.auditCount("refresh_token.rotated");
      // Which tab sent each refresh, and how it ended: what a failure needs to be read.
      const refreshesSince = (index: number) =>
        tabs.log
          .of("Refresh")
          .slice(index)
          .map((e) => ({
            tab: e.page === first ? "first" : "second",
            status: e.status,
            failure: e.failure,
            errors: e.errors,
          }));
      const oneRefresh = { tab: expect.any(String), status: 200, failure: null, errors: [] };

      const rounds = 5;
      for (let round = 0; round < rounds; round++) {
        const refreshesBefore = tabs.log.of("Refresh").length;
        // Into the refresh window (80% of the lifetime), both tabs at once: six calls, one refresh.
        await tabs.warp(0.85 * TTL_MS);
        const [a, b] = await Promise.all([reloadData(first), reloadData(second)]);
        expect(a.state, a.text).toBe("signed-in");
        expect(b.state, b.text).toBe("signed-in");
        await tabs.log.settled();
        expect(refreshesSince(refreshesBefore), `round ${round}`).toEqual([oneRefresh]);
      }
      // Past expiry as well (both tabs idle, lid closed): still one refresh between them.
      const refreshesBefore = tabs.log.of("Refresh").length;
      await tabs.warp(TTL_MS + 5_000);
      const [a, b] = await Promise.all([reloadData(first), reloadData(second)]);
      expect([a.state, b.state]).toEqual(["signed-in", "signed-in"]);
      await tabs.log.settled();
      // The live feeds' connections are closed for the expired token while the new one is on its way
      // to them in a renewal; they reconnect with it and must not refresh again.
      expect(refreshesSince(refreshesBefore)).toEqual([oneRefresh]);

      // Both tabs made their calls, and none of them was refused.
      const calls = tabs.log.exchanges.filter((e) => e.operationName !== "Refresh");
      expect(new Set(calls.map((e) => e.page))).toEqual(new Set([first, second]));
      expect(calls.filter((e) => e.status !== 200 || e.errors.length > 0)).toEqual([]);
      // The server saw exactly one rotation per round, and no reuse.
      expect((await demo.auditCount("refresh_token.rotated")) - rotatedBefore).toBe(rounds + 1);
      expect(await demo.auditCount("refresh_token.reuse_detected")).toBe(0);
      expect(tabs.pageErrors).toEqual([]);
    });
  }, 60_000);
});

describe("the demo page's notes and logout", () => {
  it("adds a note through the form and shows its title as text, never as markup", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const title = `<img src=x id=injected onerror="document.title='owned'"> note`;
      await page.fill('#note-form input[name="title"]', title);
      await page.fill('#note-form textarea[name="body"]', "written in the browser");
      const before = await statusOf(page);
      await page.click('#note-form button[type="submit"]');
      expect((await waitForSettledState(page, before.loads + 1)).state).toBe("signed-in");

      await expect.poll(() => page.locator("#notes li[data-note-id]").count()).toBe(1);
      expect(await page.textContent("#notes li[data-note-id]")).toContain(title);
      expect(await page.locator("#injected").count()).toBe(0);
      expect(await page.title()).toBe("Holdfast demo");
      await tab.log.settled();
      expect(tab.log.of("CreateNote").map((e) => [e.status, e.errors])).toEqual([[200, []]]);
    });
  });

  it("logs out on the server and in every tab, and a reload stays signed out", async () => {
    await withSignedInTab(browser, demo, async (first, tabs) => {
      const second = await tabs.openTab();
      expect((await statusOf(second)).state).toBe("signed-in");

      await first.click("#logout");
      await first.waitForFunction(() => document.getElementById("status")?.dataset.state === "signed-out");
      await second.waitForFunction(
        () => document.getElementById("status")?.dataset.state === "signed-out",
        undefined,
        { polling: 50 },
      );
      expect(await second.textContent("#status")).toContain("another tab");
      await tabs.log.settled();
      expect(tabs.log.of("Logout").map((e) => [e.status, e.errors])).toEqual([[200, []]]);
      expect((await tabs.context.cookies()).filter((c) => c.name === "__Host-holdfast_rt")).toEqual([]);

      await first.reload();
      expect((await waitForSettledState(first)).state).toBe("signed-out");
      expect(tabs.pageErrors).toEqual([]);
    });
  });
});
