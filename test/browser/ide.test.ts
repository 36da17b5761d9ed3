import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/test-server.js";
import { NetworkLog, useChromiumAndDemo } from "./support/demo-harness.js";

// Holdfast's IDE (GET /graphql, GraphiQL 5) in Chromium with the network cut off from everything but
// the server: every script, style, font and Monaco worker comes from the server's origin, and every
// operation goes through the SDK, signed with the page's non-extractable key.
const { browser, demo } = useChromiumAndDemo({ GRAPHQL_IDE: "true" });

/** The first page load waits for the bundle, built in the background since the server started. */
const LOAD_TIMEOUT_MS = 60_000;

interface OfflineContext {
  readonly context: BrowserContext;
  readonly log: NetworkLog;
  /** Requests for anything not on the server's origin (all refused). */
  readonly outside: string[];
  readonly pageErrors: Error[];
}

async function offlineContext(): Promise<OfflineContext> {
  const context = await browser.newContext();
  const outside: string[] = [];
  await context.route("**", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === demo.origin) return route.continue();
    outside.push(url);
    return route.abort("internetdisconnected");
  });
  const pageErrors: Error[] = [];
  context.on("page", (page) => page.on("pageerror", (error) => pageErrors.push(error)));
  return { context, log: new NetworkLog(context, demo.clock), outside, pageErrors };
}

async function openIde(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${demo.origin}/graphql`, { timeout: LOAD_TIMEOUT_MS });
  await page.waitForSelector(".graphiql-execute-button", { timeout: LOAD_TIMEOUT_MS });
  await expect.poll(() => page.locator("#session").getAttribute("data-state")).not.toBe("loading");
  return page;
}

/** Replaces the operation in the editor (Monaco) and runs it once GraphiQL has read its name. */
async function run(page: Page, operation: string): Promise<void> {
  const name = /^\w+ (\w+)/.exec(operation)?.[1] ?? "";
  await page.locator(".graphiql-query-editor .monaco-editor").click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  // One input event with the whole text: no auto-closed brackets.
  await page.keyboard.insertText(operation);
  // The tab's title is the operation's name, parsed from the editor a moment after the edit.
  await expect.poll(() => page.locator(".graphiql-tab-active").textContent()).toContain(name);
  await page.locator(".graphiql-execute-button").click();
}

/** What the response pane shows, one space for Monaco's non-breaking ones. */
async function response(page: Page): Promise<string> {
  const text = (await page.locator(".graphiql-response .view-lines").textContent()) ?? "";
  return text.replace(/\u00a0/g, " ").replace(/\s+/g, " ");
}

describe("Holdfast's IDE at /graphql", () => {
  it("registers, runs me and a subscription over a DPoP-bound session, and sees the subscription end on logout, offline", async () => {
    const { context, log, outside, pageErrors } = await offlineContext();
    try {
      const page = await openIde(context);
      expect(await page.locator("#session").getAttribute("data-state")).toBe("signed-out");

      const email = `ide-${Date.now()}@example.com`;
      await page.fill('#sign-in input[name="email"]', email);
      await page.fill('#sign-in input[name="password"]', TEST_PASSWORD);
      await page.fill('#sign-in input[name="displayName"]', "IDE User");
      await page.click('#sign-in button[value="register"]');
      await expect.poll(() => page.locator("#session").getAttribute("data-state")).toBe("signed-in");
      expect(await page.locator("#session").textContent()).toContain(email);

      await run(page, "query Me { me { id email } }");
      await expect.poll(() => response(page), { timeout: 15_000 }).toContain(`"email": "${email}"`);
      await log.settled();
      const [me] = log.of("Me");
      // Signed with the page's key (RFC 9449): a DPoP token and a proof, never a Bearer token.
      expect(me?.authorization).toMatch(/^DPoP /);
      expect(me?.dpop).toBeTruthy();
      // The page never saw a token: it is in no element of the page.
      const token = log.tokens()[0]!;
      expect(await page.content()).not.toContain(token);

      await run(page, "subscription Live { noteEvents { kind note { title } } }");
      await expect.poll(() => page.locator("#stream").getAttribute("data-state")).toBe("live");
      await expect
        .poll(() => demo.server.subscriptions.connections().filter((c) => c.sessionId).length)
        .toBe(1);

      // Another tab of the same browser (same session) writes a note from its own IDE.
      const other = await openIde(context);
      expect(await other.locator("#session").getAttribute("data-state")).toBe("signed-in");
      await run(other, 'mutation Write { createNote(input: {title: "seen live", body: "b"}) { id } }');
      await expect.poll(() => response(other), { timeout: 15_000 }).toContain('"createNote"');
      await expect.poll(() => response(page), { timeout: 15_000 }).toContain('"title": "seen live"');

      await page.click("#logout");
      await expect.poll(() => page.locator("#session").getAttribute("data-state")).toBe("signed-out");
      await expect.poll(() => page.locator("#stream").getAttribute("data-state")).toBe("ended");
      await expect
        .poll(() => demo.server.subscriptions.connections().filter((c) => c.sessionId).length)
        .toBe(0);

      expect(outside).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("sends the same query without the key when the toggle is off: no credential, and nobody is signed in", async () => {
    const { context, log, outside, pageErrors } = await offlineContext();
    try {
      const page = await openIde(context);
      await page.fill('#sign-in input[name="email"]', `ide-toggle-${Date.now()}@example.com`);
      await page.fill('#sign-in input[name="password"]', TEST_PASSWORD);
      await page.fill('#sign-in input[name="displayName"]', "IDE Toggle");
      await page.click('#sign-in button[value="register"]');
      await expect.poll(() => page.locator("#session").getAttribute("data-state")).toBe("signed-in");

      await page.uncheck("#use-key");
      await run(page, "query Unsigned { me { id email } }");
      await expect.poll(() => response(page), { timeout: 15_000 }).toContain('"me": null');
      await log.settled();
      const [unsigned] = log.of("Unsigned");
      expect(unsigned?.authorization).toBeNull();
      expect(unsigned?.dpop).toBeNull();

      // Back on: the same session answers again.
      await page.check("#use-key");
      await run(page, "query Signed { me { id email } }");
      await expect.poll(() => response(page), { timeout: 15_000 }).toContain("ide-toggle-");
      expect(outside).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("keeps Apollo Sandbox one click away at /graphql?sandbox", async () => {
    const page = await fetch(`${demo.directUrl}/graphql?sandbox`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("embeddable-sandbox");
    const ide = await fetch(`${demo.directUrl}/graphql`, { headers: { accept: "text/html" } });
    expect(ide.headers.get("content-security-policy")).toContain("script-src 'self';");
    expect(await ide.text()).toContain('href="/graphql?sandbox"');
  });
});
