import pino from "pino";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Request,
  type Response,
} from "playwright-core";
import type { Clock } from "../../../src/clock.js";
import { type Config, loadConfig } from "../../../src/config/config.js";
import type { Database } from "../../../src/db/database.js";
import { createServer, type HoldfastServer } from "../../../src/server/create-server.js";
import { DEMO_MODULES } from "../../support/demo-modules.js";
import { freePort } from "../../support/free-port.js";
import { createTestDatabase } from "../../support/test-db.js";
import { TEST_ENV, TEST_PASSWORD } from "../../support/test-server.js";
import { useForFile } from "../../support/use-for-file.js";

// Real Chromium (Debian's package, never a downloaded browser) against the real server on a loopback
// port. The page is opened as http://localhost:<port>: Chromium counts localhost as a secure context,
// so the `__Host-` Secure refresh cookie and WebCrypto work over plain HTTP, and PUBLIC_URL names the
// same origin so DPoP `htu` matches.

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The shortest lifetime the config allows; the tests move time rather than wait for it. */
export const ACCESS_TOKEN_TTL_SECONDS = 60;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * The server's clock: real time plus an offset the test moves. Time keeps flowing (backoff sleeps,
 * request timeouts and lock waits behave as in life), and a warp is the laptop lid closed for a
 * while. The browser's clock is moved by the same amount (see `warp`): both clocks move together in
 * life, and a test that moved only one would be testing a growing clock skew that no client can see,
 * not token lifetimes.
 */
export class WarpClock implements Clock {
  #offsetMs = 0;
  /** How far the browser's clock is ahead while a warp is under way. */
  #pendingMs = 0;
  #door: Promise<void> = Promise.resolve();

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  /** The server's time that the browser's clock shows now (ahead of `now()` only during a warp). */
  browserNow(): Date {
    return new Date(this.now().getTime() + this.#pendingMs);
  }

  /**
   * Advances after `first` (moving the browser's clock) has run; requests that arrive meanwhile wait
   * for it (see `caughtUp`). Two clocks cannot move in one step, and neither order is safe if the
   * browser reaches the server in between: server first, its expiry sweep closes the live feed of a
   * browser that still thinks its token fresh; browser first, the server answers proofs and refreshes
   * from a browser whose clock is ahead of it.
   */
  async advanceAfter(ms: number, first: () => Promise<void>): Promise<void> {
    let open = () => {};
    this.#door = new Promise((resolve) => {
      open = resolve;
    });
    this.#pendingMs = ms;
    try {
      await first();
    } finally {
      this.#offsetMs += ms;
      this.#pendingMs = 0;
      open();
    }
  }

  /** Resolves at once, or once the warp under way has moved this clock. */
  caughtUp(): Promise<void> {
    return this.#door;
  }
}

export interface DemoServer {
  /** What the browser opens: http://localhost:<port>. */
  readonly origin: string;
  /** What Node's fetch uses (the server listens on 127.0.0.1 only). */
  readonly directUrl: string;
  readonly server: HoldfastServer;
  readonly config: Config;
  readonly clock: WarpClock;
  readonly database: Database;
  /** How many audit events of this type the server recorded. */
  auditCount(type: string): Promise<number>;
  close(): Promise<void>;
}

export async function startDemoServer(env: Record<string, string> = {}): Promise<DemoServer> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const clock = new WarpClock();
  const database = await createTestDatabase();
  const config = loadConfig({
    ...TEST_ENV,
    ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS),
    ...env,
    DEMO: "true",
    PUBLIC_URL: origin,
    DATABASE_URL: database.url,
  });
  const server = await createServer({
    config,
    clock,
    database,
    logger: pino({ level: "silent" }),
    modules: DEMO_MODULES,
  });
  server.app.addHook("onRequest", () => clock.caughtUp());
  await server.app.listen({ host: "127.0.0.1", port });
  return {
    origin,
    directUrl: `http://127.0.0.1:${port}`,
    server,
    config,
    clock,
    database,
    auditCount: (type) => database.prisma.auditEvent.count({ where: { type } }),
    async close() {
      await server.close();
      await database.close();
    },
  };
}

// --- network log -----------------------------------------------------------------------------------

export interface Exchange {
  readonly operationName: string | null;
  readonly page: Page | null;
  /** The server's clock when the browser sent the request. */
  readonly sentAt: Date;
  /** The request's Authorization and DPoP headers, once read. */
  authorization: string | null;
  dpop: string | null;
  /** Null when the request failed (aborted) without a response. */
  status: number | null;
  /** Why the browser gave up on the request (`net::ERR_ABORTED`, …) when it did. */
  failure: string | null;
  /** `code/reason` of each GraphQL error. */
  errors: string[];
  /** From Login/Register/Refresh answers: the token the browser received, and its expiry. */
  accessToken: string | null;
  expiresAt: Date | null;
}

/** Every /graphql exchange of a browser context, with the tokens it carried. */
export class NetworkLog {
  readonly exchanges: Exchange[] = [];
  readonly #byRequest = new Map<Request, Exchange>();
  readonly #pending = new Set<Promise<void>>();

  constructor(context: BrowserContext, clock: WarpClock) {
    context.on("request", (request) => {
      if (!request.url().endsWith("/graphql") || request.method() !== "POST") return;
      const exchange: Exchange = {
        operationName: operationNameOf(request.postData()),
        page: request.frame().page(),
        sentAt: clock.browserNow(),
        authorization: null,
        dpop: null,
        status: null,
        failure: null,
        errors: [],
        accessToken: null,
        expiresAt: null,
      };
      this.exchanges.push(exchange);
      this.#byRequest.set(request, exchange);
      this.#track(
        request.allHeaders().then((headers) => {
          exchange.authorization = headers.authorization ?? null;
          exchange.dpop = headers.dpop ?? null;
        }),
      );
    });
    context.on("requestfailed", (request) => {
      const exchange = this.#byRequest.get(request);
      if (exchange) exchange.failure = request.failure()?.errorText ?? "failed";
    });
    context.on("response", (response) => {
      const exchange = this.#byRequest.get(response.request());
      if (exchange) this.#track(record(exchange, response));
    });
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Waits until every response seen so far has been read. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  of(operationName: string): Exchange[] {
    return this.exchanges.filter((e) => e.operationName === operationName);
  }

  /** Every access token the browser was given or sent. */
  tokens(): string[] {
    const found = new Set<string>();
    for (const e of this.exchanges) {
      if (e.accessToken) found.add(e.accessToken);
      const sent = /^(?:DPoP|Bearer) (.+)$/.exec(e.authorization ?? "")?.[1];
      if (sent) found.add(sent);
    }
    return [...found];
  }
}

async function record(exchange: Exchange, response: Response): Promise<void> {
  exchange.status = response.status();
  const body = (await response.json()) as {
    data?: Record<string, { accessToken?: string; expiresAt?: string } | null> | null;
    errors?: { extensions?: { code?: string; reason?: string } }[];
  };
  exchange.errors = (body.errors ?? []).map((e) => `${e.extensions?.code}/${e.extensions?.reason ?? ""}`);
  for (const field of ["login", "register", "refresh"]) {
    const payload = body.data?.[field];
    if (payload?.accessToken) exchange.accessToken = payload.accessToken;
    if (payload?.expiresAt) exchange.expiresAt = new Date(payload.expiresAt);
  }
}

/** Each successful refresh against the token it replaced: how old that token was, how long it had left. */
export function refreshTimings(log: NetworkLog, ttlMs: number): { ageMs: number; leftMs: number }[] {
  const issued = log.exchanges.filter((e) => e.status === 200 && e.accessToken && e.expiresAt);
  return issued.flatMap((refresh, i) => {
    const previous = issued[i - 1];
    if (refresh.operationName !== "Refresh" || !previous?.expiresAt) return [];
    const expiresAtMs = previous.expiresAt.getTime();
    return [
      {
        ageMs: refresh.sentAt.getTime() - (expiresAtMs - ttlMs),
        leftMs: expiresAtMs - refresh.sentAt.getTime(),
      },
    ];
  });
}

function operationNameOf(postData: string | null): string | null {
  try {
    const parsed = JSON.parse(postData ?? "") as { operationName?: unknown };
    return typeof parsed.operationName === "string" ? parsed.operationName : null;
  } catch {
    return null;
  }
}

// --- a browser session on the demo page ----------------------------------------------------------

export interface DemoBrowser {
  readonly context: BrowserContext;
  readonly log: NetworkLog;
  /** Uncaught errors in any page of the context. */
  readonly pageErrors: Error[];
  /** Opens /demo in a new tab and waits until it knows whether it is signed in. */
  openTab(): Promise<Page>;
  /** Moves the server's and the browser's clocks forward together. */
  warp(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface DemoBrowserOptions {
  /** How far the browser's clock is off the server's, in ms (negative: behind). Default 0. */
  readonly clockSkewMs?: number;
  /** The origin the tabs open, e.g. http://127.0.0.1:<port> (development accepts every loopback name). Default `demo.origin`. */
  readonly origin?: string;
  /** The page path and query. Default `/demo`. */
  readonly path?: string;
}

export async function openDemoBrowser(
  browser: Browser,
  demo: DemoServer,
  options: DemoBrowserOptions = {},
): Promise<DemoBrowser> {
  const context = await browser.newContext();
  // Installed before any page loads; from then on the browser's time flows like the server's.
  await context.clock.install({ time: demo.clock.now().getTime() + (options.clockSkewMs ?? 0) });
  const log = new NetworkLog(context, demo.clock);
  const pageErrors: Error[] = [];
  context.on("page", (page) => page.on("pageerror", (error) => pageErrors.push(error)));
  return {
    context,
    log,
    pageErrors,
    async openTab() {
      const page = await context.newPage();
      await page.goto(`${options.origin ?? demo.origin}${options.path ?? "/demo"}`);
      await waitForSettledState(page);
      return page;
    },
    warp: (ms) => demo.clock.advanceAfter(ms, () => context.clock.fastForward(ms)),
    close: () => context.close(),
  };
}

export interface PageStatus {
  readonly state: string;
  readonly text: string;
  readonly refreshes: number;
  readonly failedAttempts: number;
  readonly loads: number;
}

export async function statusOf(page: Page): Promise<PageStatus> {
  return page.locator("#status").evaluate((el: HTMLElement) => ({
    state: el.dataset.state ?? "",
    text: el.textContent ?? "",
    refreshes: Number(el.dataset.refreshes ?? 0),
    failedAttempts: Number(el.dataset.failedAttempts ?? 0),
    loads: Number(el.dataset.loads ?? 0),
  }));
}

/** Waits until the page is no longer loading (signed in, signed out, session lost or an error). */
export async function waitForSettledState(page: Page, minLoads = 0): Promise<PageStatus> {
  await page.waitForFunction(
    (loads) => {
      const el = document.getElementById("status");
      if (!el || el.dataset.state === "loading") return false;
      return el.dataset.state !== "signed-in" || Number(el.dataset.loads ?? 0) >= loads;
      // Polled on a timer: the default (animation frames) stalls in a tab that is not in front.
    },
    minLoads,
    { polling: 50 },
  );
  return statusOf(page);
}

let accounts = 0;

/** Registers a fresh account through the page's form; resolves once the page shows the signed-in view. */
export async function registerThroughPage(page: Page): Promise<{ email: string; displayName: string }> {
  accounts += 1;
  const email = `browser${accounts}-${Date.now()}@example.com`;
  const displayName = `Browser User ${accounts}`;
  await page.fill('#auth-form input[name="email"]', email);
  await page.fill('#auth-form input[name="password"]', TEST_PASSWORD);
  await page.fill('#auth-form input[name="displayName"]', displayName);
  const before = await statusOf(page);
  await page.click('#auth-form button[value="register"]');
  const after = await waitForSettledState(page, before.loads + 1);
  if (after.state !== "signed-in") throw new Error(`registration did not sign in: ${after.text}`);
  return { email, displayName };
}

/**
 * Clicks Reload (me, notes and sessions at once) and waits for the outcome. The click is dispatched to
 * the button rather than simulated with the mouse: only one tab is in front, and Playwright's
 * actionability checks wait for animation frames a background tab does not get.
 */
export async function reloadData(page: Page): Promise<PageStatus> {
  const before = await statusOf(page);
  await page.locator("#reload").dispatchEvent("click");
  return waitForSettledState(page, before.loads + 1);
}

/**
 * A fresh browser context on the demo page (see openDemoBrowser for `options`) with a newly
 * registered account, closed afterwards whatever the test does: the opening of most browser tests.
 */
export async function withSignedInTab(
  browser: Browser,
  demo: DemoServer,
  body: (page: Page, tab: DemoBrowser, account: { email: string; displayName: string }) => Promise<void>,
  options: DemoBrowserOptions = {},
): Promise<void> {
  const tab = await openDemoBrowser(browser, demo, options);
  try {
    const page = await tab.openTab();
    const account = await registerThroughPage(page);
    await body(page, tab, account);
  } finally {
    await tab.close();
  }
}

/** One Chromium and one demo server (`env` as for startDemoServer) for the whole file or suite (see useForFile). */
export function useChromiumAndDemo(env: Record<string, string> = {}): { browser: Browser; demo: DemoServer } {
  return {
    browser: useForFile(launchChromium, (b) => b.close()),
    demo: useForFile(
      () => startDemoServer(env),
      (d) => d.close(),
    ),
  };
}
