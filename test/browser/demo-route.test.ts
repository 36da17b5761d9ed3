import { afterEach, describe, expect, it } from "vitest";
import { buildDemoAssets } from "../../src/server/demo/build-demo-assets.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string): Map<string, string> {
  return new Map(
    header
      .split(";")
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name = "", ...values] = d.split(/\s+/);
        return [name, values.join(" ")];
      }),
  );
}

describe("the /demo route", () => {
  it("serves the page, its bundled script and its style under a CSP that allows only this origin", async () => {
    t = await startTestServer({ DEMO: "true" });
    for (const [path, type] of [
      ["/demo", "text/html"],
      ["/demo/", "text/html"],
      ["/demo/app.js", "text/javascript"],
      ["/demo/demo.css", "text/css"],
    ] as const) {
      const response = await t.server.app.inject({ method: "GET", url: path });
      expect(response.statusCode, path).toBe(200);
      expect(response.headers["content-type"], path).toContain(type);
      const csp = response.headers["content-security-policy"];
      // One policy: a second header would be enforced as well, and the stricter of each pair wins.
      expect(typeof csp, path).toBe("string");
      const policy = directives(csp as string);
      expect(Object.fromEntries(policy), path).toMatchObject({
        "default-src": "'self'",
        "script-src": "'self'",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
      });
      expect(policy.get("style-src") ?? policy.get("default-src"), path).toBe("'self'");
      expect(response.headers["cache-control"], path).toBe("no-store");
    }
  });

  it("is not served unless the demo is enabled", async () => {
    t = await startTestServer({ DEMO: "false" });
    for (const path of ["/demo", "/demo/", "/demo/app.js"]) {
      const response = await t.server.app.inject({ method: "GET", url: path });
      expect(response.statusCode, path).toBe(404);
    }
  });

  it("has no inline script or style for the CSP to block, and bundles the SDK rather than loading it", async () => {
    const { html, script } = await buildDemoAssets();
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="\/demo\//);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    // Self-contained: no import left for the browser to resolve, and the client's code is in it.
    expect(script).not.toMatch(/^\s*import\s/m);
    expect(script).toContain("holdfast-refresh");
  });
});
