import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/test-server.js";
import {
  openDemoBrowser,
  registerThroughPage,
  useChromiumAndDemo,
  withSignedInTab,
} from "./support/demo-harness.js";

// Passkeys and step-up in real Chromium, with Chrome's virtual authenticator (DevTools protocol
// WebAuthn domain): a discoverable credential with user verification, as a platform passkey is.

/** What the page shows after a click may take a while on a busy machine; never a fixed sleep. */
const EVENTUALLY = { timeout: 30_000 };
const SLOW_TEST_MS = 120_000;

const { browser, demo } = useChromiumAndDemo();

/** A virtual platform authenticator for this page: resident keys, user verification, presence simulated. */
async function addVirtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

async function press(page: Page, selector: string): Promise<void> {
  await page.locator(selector).dispatchEvent("click");
}

describe("passkeys in the demo", () => {
  it(
    "registers a passkey through Chrome's authenticator and signs in with it after logout",
    async () => {
      const tab = await openDemoBrowser(browser, demo);
      try {
        const page = await tab.openTab();
        await addVirtualAuthenticator(page);
        const { displayName } = await registerThroughPage(page);
        await page.fill("#passkey-name", "Virtual key");
        await page.fill("#passkey-password", TEST_PASSWORD);
        await press(page, "#passkey-add");
        await page.waitForSelector('#passkey-list[data-count="1"]', EVENTUALLY);
        expect(await page.locator("#passkey-list li").textContent()).toContain("Virtual key");
        const stored = await demo.database.prisma.passkey.findMany();
        expect(stored).toHaveLength(1);

        await press(page, "#logout");
        await page.waitForFunction(
          () => document.getElementById("status")?.dataset.state === "signed-out",
          null,
          {
            ...EVENTUALLY,
            polling: 100,
          },
        );
        await press(page, "#passkey-sign-in");
        // Other panels (the live feed, sessions) reload on sign-out too, so a load count does not
        // single out the passkey sign-in's: wait for the state the user would see.
        await page.waitForFunction(
          () => document.getElementById("status")?.dataset.state === "signed-in",
          null,
          { ...EVENTUALLY, polling: 100 },
        );
        expect(await page.locator("#me-name").textContent()).toBe(displayName);
        expect(await demo.auditCount("passkey.failed")).toBe(0);
        const used = await demo.database.prisma.passkey.findUnique({ where: { id: stored[0]!.id } });
        expect(used?.lastUsedAt).not.toBeNull();
        expect(tab.pageErrors).toEqual([]);
      } finally {
        await tab.close();
      }
    },
    SLOW_TEST_MS,
  );

  it(
    "asks for step-up when the password change comes long after sign-in, and changes it after",
    async () => {
      await withSignedInTab(browser, demo, async (page, tab, { email }) => {
        // The sign-in is now older than STEP_UP_MAX_AGE_SECONDS (the tokens refresh meanwhile).
        await tab.warp((demo.config.stepUp.maxAgeSeconds + 5) * 1000);
        await page.fill("#password-current", TEST_PASSWORD);
        await page.fill("#password-new", "a new passphrase from the demo");
        await press(page, "#password-change");
        await page.waitForSelector("#step-up", EVENTUALLY);
        expect(await demo.auditCount("password.changed")).toBe(0);
        await page.fill("#step-up-password", TEST_PASSWORD);
        await press(page, "#step-up-with-password");
        await page.waitForSelector('#password-result[data-outcome="changed"]', EVENTUALLY);
        expect(await page.locator("#step-up").count()).toBe(0);
        expect(await demo.auditCount("session.reauthenticated")).toBeGreaterThanOrEqual(1);
        const user = await demo.database.prisma.user.findUnique({ where: { email } });
        const events = await demo.database.prisma.auditEvent.count({
          where: { userId: user!.id, type: "password.changed" },
        });
        expect(events).toBe(1);
        expect(tab.pageErrors).toEqual([]);
      });
    },
    SLOW_TEST_MS,
  );
});
