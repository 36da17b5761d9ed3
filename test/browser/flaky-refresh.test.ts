import type { Page, Route } from "playwright-core";
import { describe, expect, it } from "vitest";
import { defaultRetry } from "../../src/client/backoff.js";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  registerThroughPage,
  reloadData,
  statusOf,
  useChromiumAndDemo,
  withSignedInTab,
} from "./support/demo-harness.js";

const { browser, demo } = useChromiumAndDemo();

/** Makes the first `failures` refresh requests die on the network (connection reset); the rest go through. */
async function breakRefreshes(page: Page, failures: number): Promise<{ aborted: () => number }> {
  let aborted = 0;
  await page.route("**/graphql", async (route: Route) => {
    const body = route.request().postDataJSON() as { operationName?: string } | null;
    if (body?.operationName === "Refresh" && aborted < failures) {
      aborted += 1;
      await route.abort("connectionreset");
      return;
    }
    await route.continue();
  });
  return { aborted: () => aborted };
}

const TTL_MS = ACCESS_TOKEN_TTL_SECONDS * 1000;

describe("refresh on a flaky network", () => {
  it("shows the user no error when the refresh fails twice on the network and then goes through", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const network = await breakRefreshes(page, 2);
      const before = await statusOf(page);
      // The lid was closed past the token's expiry: without a refresh no call can succeed.
      await tab.warp(TTL_MS + 5_000);
      const status = await reloadData(page);

      expect(status.state, status.text).toBe("signed-in");
      expect(status.failedAttempts - before.failedAttempts).toBe(2);
      expect(status.refreshes - before.refreshes).toBe(1);
      expect(network.aborted()).toBe(2);
      await tab.log.settled();
      const refreshes = tab.log.of("Refresh").slice(-3);
      expect(refreshes.map((e) => e.status)).toEqual([null, null, 200]);
      expect(tab.log.exchanges.filter((e) => e.operationName !== "Refresh").flatMap((e) => e.errors)).toEqual(
        [],
      );
      expect(tab.pageErrors).toEqual([]);
    });
  });

  it("keeps working on the still-valid token when every refresh ahead of expiry fails", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const network = await breakRefreshes(page, Number.POSITIVE_INFINITY);
      await tab.warp(0.85 * TTL_MS); // due for refresh, 9 s of life left
      const status = await reloadData(page);

      expect(status.state, status.text).toBe("signed-in");
      expect(network.aborted()).toBe(defaultRetry.maxAttempts);
      expect(tab.pageErrors).toEqual([]);
    });
  });

  it("reports the session lost, cleanly, when the refresh fails for longer than the retry bound", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      const network = await breakRefreshes(page, Number.POSITIVE_INFINITY);
      const before = await statusOf(page);
      await tab.warp(TTL_MS + 5_000);
      const status = await reloadData(page);

      expect(status.state, status.text).toBe("session-lost");
      expect(status.text).toContain("refresh_failed");
      expect(network.aborted()).toBe(defaultRetry.maxAttempts);
      expect(status.failedAttempts - before.failedAttempts).toBe(defaultRetry.maxAttempts);
      expect(await page.isVisible("#auth-form")).toBe(true);
      expect(await page.isVisible("#signed-in")).toBe(false);
      expect(await page.locator("#notes li").count()).toBe(0);
      // No call went out with the expired token while the refresh was failing.
      await tab.log.settled();
      expect(tab.log.exchanges.filter((e) => e.operationName !== "Refresh" && e.status === 401)).toEqual([]);
      expect(tab.pageErrors).toEqual([]);

      // Once the network is back, signing in again works from the same page.
      await page.unroute("**/graphql");
      await registerThroughPage(page);
      expect((await statusOf(page)).state).toBe("signed-in");
    });
  });
});
