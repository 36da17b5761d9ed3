import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/test-server.js";
import {
  openDemoBrowser,
  registerThroughPage,
  reloadData,
  statusOf,
  useChromiumAndDemo,
  waitForSettledState,
  withSignedInTab,
} from "./support/demo-harness.js";

// The console a newcomer opens at /demo, driven in Chromium at both loopback names a browser uses for
// a local server. The server runs in development mode: that is what makes 127.0.0.1 the same origin
// as the configured http://localhost:<port> (DPoP htu, CORS); the refresh cookie is host-only, so each
// name simply has its own.

/**
 * README's screenshots (docs/console-*.png) are rewritten only when asked, `UPDATE_SCREENSHOTS=1
 * npx vitest run test/browser/security-console.test.ts`; otherwise they are taken into a temporary
 * folder, so a test run leaves the tracked tree as it found it.
 */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? new URL("../../docs/", import.meta.url)
    : pathToFileURL(join(tmpdir(), `holdfast-screenshots-${process.pid}/`));
/** What the page shows after a click may take a while on a busy machine; never a fixed sleep. */
const EVENTUALLY = { timeout: 20_000, interval: 100 };
/** Several tabs, several logins and argon2 on a shared 2-core machine. */
const SLOW_TEST_MS = 120_000;

const { browser, demo } = useChromiumAndDemo({ NODE_ENV: "development" });

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  if (process.env.UPDATE_SCREENSHOTS !== "1") await rm(SCREENSHOTS, { recursive: true, force: true });
});

/** Clicks by dispatching the event: Playwright's mouse waits for frames a background tab never gets. */
async function press(page: Page, selector: string): Promise<void> {
  await page.locator(selector).dispatchEvent("click");
}

async function signInThroughPage(page: Page, email: string): Promise<void> {
  await page.fill('#auth-form input[name="email"]', email);
  await page.fill('#auth-form input[name="password"]', TEST_PASSWORD);
  const before = await statusOf(page);
  await page.locator('#auth-form button[value="login"]').click();
  const after = await waitForSettledState(page, before.loads + 1);
  if (after.state !== "signed-in") throw new Error(`sign-in did not sign in: ${after.text}`);
}

/** The attacker log's newest entries, newest first. */
function attackerLog(page: Page): Promise<{ outcome: string; refusal: string; text: string }[]> {
  return page.locator("#attacker-log li").evaluateAll((items) =>
    items.map((li) => ({
      outcome: (li as HTMLElement).dataset.outcome ?? "",
      refusal: (li as HTMLElement).dataset.refusal ?? "",
      text: li.textContent ?? "",
    })),
  );
}

function secondsLeft(page: Page): Promise<number> {
  return page
    .locator("#token-countdown")
    .evaluate((el) => Number((el as HTMLElement).dataset.secondsLeft || Number.NaN));
}

describe.each(["localhost", "127.0.0.1"])("the security console at http://%s", (host) => {
  const origin = () => demo.origin.replace("localhost", host);
  const screenshots = host === "localhost";
  /** A signed-in tab at this host name, closed afterwards. */
  const atHost = (body: Parameters<typeof withSignedInTab>[2]) =>
    withSignedInTab(browser, demo, body, { origin: origin() });

  it(
    "signs in, decodes the bound token, counts down, and shows a silent refresh in the timeline",
    async () => {
      const tab = await openDemoBrowser(browser, demo, { origin: origin() });
      try {
        const page = await tab.openTab();
        expect(page.url()).toBe(`${origin()}/demo`);
        await registerThroughPage(page);

        const claims = JSON.parse((await page.textContent("#token-claims")) ?? "{}") as Record<
          string,
          unknown
        >;
        expect(claims).toMatchObject({ iss: demo.origin, cnf: { jkt: expect.any(String) } });
        expect(await page.locator("#token-binding").getAttribute("data-bound")).toBe("true");
        expect(await page.locator("#token-scopes li").allTextContents()).toContain("notes:read");
        expect(await page.locator('#token-timeline li[data-via="sign_in"]').count()).toBe(1);

        // The countdown moves with the clock (time also flows on its own, so only its direction is asserted).
        const first = await secondsLeft(page);
        expect(first).toBeGreaterThan(40);
        await tab.warp(5_000);
        await expect.poll(() => secondsLeft(page), EVENTUALLY).toBeLessThanOrEqual(first - 5);

        // Past 80% of the 60 s life, the next request refreshes first: silently, but visibly here.
        await tab.warp(45_000);
        expect((await reloadData(page)).state).toBe("signed-in");
        await expect
          .poll(() => page.locator('#token-timeline li[data-via="refresh"]').count(), EVENTUALLY)
          .toBe(1);
        await expect.poll(() => secondsLeft(page), EVENTUALLY).toBeGreaterThan(40);

        // A widget's token with notes:read only (the default choice) reads notes but not sessions.
        await press(page, "#narrow-run");
        await expect.poll(() => page.locator("#narrow-result tr[data-field]").count(), EVENTUALLY).toBe(3);
        const allowed = await page
          .locator("#narrow-result tr[data-field]")
          .evaluateAll((rows) =>
            Object.fromEntries(
              rows.map((r) => [(r as HTMLElement).dataset.field, (r as HTMLElement).dataset.allowed]),
            ),
          );
        expect(allowed).toEqual({ "me.displayName": "true", "me.notes": "true", sessions: "false" });
        expect(await page.textContent('#narrow-result tr[data-field="sessions"]')).toContain("FORBIDDEN");
        expect(await page.textContent("#narrow-summary")).toContain("scopes [notes:read]");
        if (screenshots)
          await page.screenshot({ path: new URL("console-token.png", SCREENSHOTS).pathname, fullPage: true });
        expect(tab.pageErrors).toEqual([]);
      } finally {
        await tab.close();
      }
    },
    SLOW_TEST_MS,
  );

  it(
    "shows the copied token refused without the key, and refused even with it after logout",
    async () => {
      await atHost(async (page, tab) => {
        await press(page, "#attacker-copy");
        expect(await page.locator("#attacker-loot").getAttribute("data-copied")).toBe("true");
        expect(await page.textContent("#attacker-cookie")).toContain("document.cookie is empty");

        await press(page, "#attacker-without-key");
        await expect.poll(async () => (await attackerLog(page)).length, EVENTUALLY).toBe(2);
        const withoutKey = await attackerLog(page);
        for (const entry of withoutKey) {
          expect(entry.outcome, entry.text).toBe("refused");
          expect(entry.refusal, entry.text).toMatch(
            /^UNAUTHENTICATED\/(invalid_dpop_proof|invalid_token|dpop_required)$/,
          );
          expect(entry.text).toContain("HTTP 401");
        }

        // Script inside the page can use the key while the session lives: DPoP stops copies, not XSS.
        await press(page, "#attacker-with-key");
        await expect.poll(async () => (await attackerLog(page))[0]?.outcome, EVENTUALLY).toBe("accepted");

        await press(page, "#logout");
        await page.waitForFunction(() => document.getElementById("status")?.dataset.state === "signed-out");
        await press(page, "#attacker-with-key");
        await expect
          .poll(async () => (await attackerLog(page))[0])
          .toMatchObject({ outcome: "refused", refusal: "UNAUTHENTICATED/token_revoked" });
        await press(page, "#attacker-without-key");
        await expect
          .poll(async () => (await attackerLog(page)).filter((e) => e.outcome === "refused").length)
          .toBe(5);
        if (screenshots)
          await page.screenshot({
            path: new URL("console-attacker.png", SCREENSHOTS).pathname,
            fullPage: true,
          });
        expect(tab.pageErrors).toEqual([]);
      });
    },
    SLOW_TEST_MS,
  );

  it(
    "revokes a second session from the list (its tab is signed out), then logs out everywhere",
    async () => {
      const [a, b, c] = await Promise.all([
        openDemoBrowser(browser, demo, { origin: origin() }),
        openDemoBrowser(browser, demo, { origin: origin() }),
        openDemoBrowser(browser, demo, { origin: origin() }),
      ]);
      try {
        const pageA = await a.openTab();
        const { email } = await registerThroughPage(pageA);
        const pageB = await b.openTab();
        await signInThroughPage(pageB, email);
        const pageC = await c.openTab();
        await signInThroughPage(pageC, email);

        expect((await reloadData(pageA)).state).toBe("signed-in");
        const others = pageA.locator('#sessions li[data-current="false"]');
        await expect.poll(() => others.count(), EVENTUALLY).toBe(2);
        expect(await pageA.locator('#sessions li[data-current="true"]').count()).toBe(1);
        expect(await pageA.locator('#sessions li[data-bound="true"]').count()).toBe(3);

        // B's session is the one whose id B's token carries.
        const sessionB = await pageB.evaluate(
          () => JSON.parse(document.getElementById("token-claims")?.textContent ?? "{}").sid as string,
        );
        await pageA.locator(`#sessions li[data-session-id="${sessionB}"] button`).dispatchEvent("click");
        await expect.poll(() => pageA.locator("#sessions li").count(), EVENTUALLY).toBe(2);
        expect(await pageA.locator(`#sessions li[data-session-id="${sessionB}"]`).count()).toBe(0);

        const lostB = await reloadData(pageB);
        expect(lostB.state).toBe("session-lost");
        expect(lostB.text).toContain("token_revoked");
        expect((await reloadData(pageC)).state).toBe("signed-in");

        await press(pageA, "#logout-everywhere");
        await pageA.waitForFunction(() => document.getElementById("status")?.dataset.state === "signed-out");
        expect(await pageA.textContent("#status")).toContain("Signed out everywhere");
        const lostC = await reloadData(pageC);
        expect(lostC.state).toBe("session-lost");
        expect(lostC.text).toContain("token_revoked");
        for (const tab of [a, b, c]) expect(tab.pageErrors).toEqual([]);
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
      }
    },
    SLOW_TEST_MS,
  );
});

describe("the attacker panel in native-app mode (refresh token in the body)", () => {
  it(
    "shows a replayed rotated refresh token ending the session, and the page signed out with the reason",
    async () => {
      await withSignedInTab(
        browser,
        demo,
        async (page, tab) => {
          await press(page, "#attacker-copy-refresh");
          await expect
            .poll(() => page.locator("#attacker-refresh-loot").getAttribute("data-copied"))
            .toBe("true");

          // The real client rotates twice (after one rotation the copy's successor is unused, and a
          // replay signed with the session's key is the owner's lost-answer retry); the attacker
          // waits out the grace interval (10 s) and replays the copy.
          await press(page, "#token-refresh");
          await expect
            .poll(() => page.locator('#token-timeline li[data-via="refresh"]').count(), EVENTUALLY)
            .toBe(1);
          await press(page, "#token-refresh");
          await expect
            .poll(() => page.locator('#token-timeline li[data-via="refresh"]').count(), EVENTUALLY)
            .toBe(2);
          await tab.warp(11_000);
          await press(page, "#attacker-replay-refresh");
          await expect
            .poll(async () => (await attackerLog(page))[0]?.refusal)
            .toBe("UNAUTHENTICATED/refresh_token_reused");
          await page.waitForFunction(
            () => document.getElementById("status")?.dataset.state === "session-lost",
          );
          expect(await page.textContent("#status")).toContain("refresh_token_reused");
          expect(await demo.auditCount("refresh_token.reuse_detected")).toBeGreaterThanOrEqual(1);
          expect(tab.pageErrors).toEqual([]);
        },
        { path: "/demo?delivery=body" },
      );
    },
    SLOW_TEST_MS,
  );

  it(
    "cannot copy the refresh token in browser mode: it is in an HttpOnly cookie",
    async () => {
      await withSignedInTab(browser, demo, async (page) => {
        await press(page, "#attacker-copy-refresh");
        await expect
          .poll(() => page.locator("#attacker-refresh-loot").getAttribute("data-copied"))
          .toBe("false");
        expect(await page.textContent("#attacker-refresh-loot")).toContain("HttpOnly");
      });
    },
    SLOW_TEST_MS,
  );
});
