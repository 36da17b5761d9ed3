import { describe, expect, it } from "vitest";
import {
  reloadData,
  useChromiumAndDemo,
  waitForSettledState,
  withSignedInTab,
} from "./support/demo-harness.js";

// The demo's live notes feed (a noteEvents subscription over WebSocket) in Chromium: it shows notes
// as they are written, and stops the moment the session ends from another tab.
const { browser, demo } = useChromiumAndDemo();

describe("the demo's live notes feed", () => {
  it("shows a note written in another tab, and stops when that tab ends the session", async () => {
    await withSignedInTab(browser, demo, async (feedPage, tab) => {
      const feed = feedPage.locator("#live-feed");
      await expect.poll(() => feed.getAttribute("data-state")).toBe("live");
      await expect.poll(() => demo.server.subscriptions.streams).toBe(1);

      // A second tab of the same browser shares the session (refresh cookie, DPoP key in IndexedDB).
      const other = await tab.openTab();
      expect((await waitForSettledState(other, 1)).state).toBe("signed-in");
      await other.fill('#note-form input[name="title"]', "written in the other tab");
      await other.locator('#note-form button[type="submit"]').dispatchEvent("click");
      await expect
        .poll(() => feed.locator("li").first().textContent(), { timeout: 15_000 })
        .toBe("created: written in the other tab");

      await other.locator("#logout").dispatchEvent("click");
      await expect.poll(() => feed.getAttribute("data-state"), { timeout: 15_000 }).toBe("stopped");
      // The server holds no connection for the session any more.
      await expect
        .poll(() => demo.server.subscriptions.connections().filter((c) => c.sessionId).length)
        .toBe(0);
      expect(tab.pageErrors).toEqual([]);
    });
  });

  it("stops when the session is revoked from elsewhere: the server closes it with the reason, and the page's next request signs out", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const feed = page.locator("#live-feed");
      await expect
        .poll(() => demo.server.subscriptions.connections().filter((c) => c.sessionId).length)
        .toBe(1);
      const [connection] = demo.server.subscriptions.connections().filter((c) => c.sessionId);
      const session = await demo.server.services.sessions.findById(connection!.sessionId!);
      // Another device (an admin, or the user elsewhere) revokes this session: no tab is told.
      await demo.server.services.sessions.revoke({
        sessionId: session!.id,
        actorUserId: session!.userId,
        asAdmin: false,
        reason: "revoked",
        client: { ip: null, userAgent: null },
      });
      await expect.poll(() => feed.getAttribute("data-state"), { timeout: 15_000 }).toBe("stopped");
      expect(await feed.getAttribute("data-reason")).toBe("token_revoked");
      // The page's next request learns it too.
      const after = await reloadData(page);
      expect(after.state).toBe("session-lost");
      expect(after.text).toContain("token_revoked");
      expect(tab.pageErrors).toEqual([]);
    });
  });
});
