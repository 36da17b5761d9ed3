import type { BrowserContext } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useChromiumAndDemo } from "./support/demo-harness.js";

// What a newcomer sees first, on a machine without the internet: every request that leaves the local
// server (Apollo's CDN for Sandbox, Google Fonts) is refused by the browser.

const { browser, demo } = useChromiumAndDemo({ NODE_ENV: "development" });

/** A context whose requests to anything but the local server fail, as offline; returns what was blocked. */
async function offlineContext(): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext();
  const blocked: string[] = [];
  const local = new URL(demo.origin);
  await context.route(
    (url) => url.hostname !== local.hostname || url.port !== local.port,
    (route) => {
      blocked.push(route.request().url());
      return route.abort("internetdisconnected");
    },
  );
  return { context, blocked };
}

describe("the front door, offline", () => {
  it("GET / links to the console, Sandbox and the README, and shows a curl example", async () => {
    const { context } = await offlineContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${demo.origin}/`);
      expect(response?.status()).toBe(200);
      const links = await page.locator("#links a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      expect(links).toEqual(expect.arrayContaining(["/demo", "/graphql", "/docs/README.md", "/healthz"]));
      expect(await page.textContent("#curl")).toContain(`curl -s ${demo.origin}/graphql`);

      // The links lead somewhere: the console loads, and the README is served.
      await page.locator('#links a[href="/demo"]').click();
      await page.waitForFunction(() => document.getElementById("status")?.dataset.state === "signed-out");
      const readme = await page.goto(`${demo.origin}/docs/README.md`);
      expect(readme?.status()).toBe(200);
      expect(await readme?.text()).toContain("# Holdfast");
    } finally {
      await context.close();
    }
  });

  it("GET /graphql?sandbox in a browser says Sandbox could not load, with links to /, /demo and the curl example", async () => {
    const { context, blocked } = await offlineContext();
    try {
      const page = await context.newPage();
      await page.goto(`${demo.origin}/graphql?sandbox`);
      const fallback = page.locator("#sandbox-offline");
      await fallback.waitFor({ state: "visible" });
      expect(await fallback.textContent()).toContain("Apollo Sandbox could not load");
      const links = await fallback.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      expect(links).toEqual(expect.arrayContaining(["/", "/demo"]));
      expect(await fallback.locator("pre").textContent()).toContain(`${demo.origin}/graphql`);
      expect(blocked.some((url) => url.startsWith("https://embeddable-sandbox.cdn.apollographql.com/"))).toBe(
        true,
      );
    } finally {
      await context.close();
    }
  });

  it("GET /graphql?sandbox with Sandbox reachable keeps the fallback hidden", async () => {
    const context = await browser.newContext();
    try {
      // A stand-in for Apollo's script (the test has no internet either): it defines EmbeddedSandbox.
      await context.route("https://embeddable-sandbox.cdn.apollographql.com/**", (route) =>
        route.fulfill({
          contentType: "text/javascript",
          body: "window.EmbeddedSandbox = function (options) { window.sandboxOptions = options; };",
        }),
      );
      await context.route(
        (url) =>
          url.hostname !== "embeddable-sandbox.cdn.apollographql.com" &&
          url.port !== new URL(demo.origin).port,
        (route) => route.abort("internetdisconnected"),
      );
      const page = await context.newPage();
      await page.goto(`${demo.origin}/graphql?sandbox`);
      await page.waitForFunction(() => "sandboxOptions" in window);
      expect(await page.locator("#sandbox-offline").isHidden()).toBe(true);
      // Sandbox opens with the document that asks who you are, and sends cookies.
      const options = await page.evaluate(
        () =>
          (window as unknown as { sandboxOptions: { initialState: Record<string, unknown> } }).sandboxOptions,
      );
      expect(options.initialState).toMatchObject({
        includeCookies: true,
        document: expect.stringContaining("me {"),
      });
    } finally {
      await context.close();
    }
  });
});
