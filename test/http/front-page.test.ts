import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { startupBanner } from "../../src/server/startup-banner.js";
import { closeAfterEach } from "../support/close-after-each.js";
import { startTestServer, TEST_ENV } from "../support/test-server.js";

const opened = closeAfterEach();

describe("GET /", () => {
  it("in development links to the console, Sandbox and the README, under a CSP that loads nothing", async () => {
    const t = opened(await startTestServer({ NODE_ENV: "development" }));
    const response = await t.server.app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/html");
    expect(response.headers["content-security-policy"]).toBe(
      "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    for (const href of ['href="/demo"', 'href="/graphql"', 'href="/docs/README.md"'])
      expect(response.body).toContain(href);
    expect(response.body).toContain("curl -s http://localhost:4000/graphql");
    expect(response.body).not.toMatch(/<script|https:\/\//);
    const readme = await t.server.app.inject({ method: "GET", url: "/docs/README.md" });
    expect(readme.statusCode).toBe(200);
    expect(readme.headers["content-type"]).toContain("text/plain");
  });

  it("in production names the endpoint but links to no demo, Sandbox or README", async () => {
    const t = opened(await startTestServer({ NODE_ENV: "production" }));
    const response = await t.server.app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toMatch(/href="\/(demo|graphql|docs)/);
    expect(response.body).toContain("POST /graphql");
    expect((await t.server.app.inject({ method: "GET", url: "/docs/README.md" })).statusCode).toBe(404);
  });
});

describe("GET /favicon.ico", () => {
  it("answers an icon (an SVG shield) in development and production, so no page logs a 404", async () => {
    for (const NODE_ENV of ["development", "production"]) {
      const t = opened(await startTestServer({ NODE_ENV }));
      const response = await t.server.app.inject({ method: "GET", url: "/favicon.ico" });
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("image/svg+xml");
      expect(response.body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/);
      expect(response.body).not.toMatch(/<script|href=/);
    }
  });
});

describe("the start-up banner", () => {
  it("says where to go and what the server runs on, without credentials", () => {
    const banner = startupBanner(
      loadConfig({
        ...TEST_ENV,
        NODE_ENV: "development",
        DATABASE_URL: "postgresql://holdfast:s3cret@db.internal:5432/holdfast",
        REDIS_URL: "redis://:hunter2secret@127.0.0.1:6379/0",
      }),
    );
    expect(banner).toContain("Holdfast is up (development mode)");
    for (const line of [
      "GraphQL    http://localhost:4000/graphql",
      "console    http://localhost:4000/demo",
      "needs the internet",
      "http://localhost:4000/healthz",
      "db.internal:5432/holdfast",
      "127.0.0.1:6379",
    ])
      expect(banner).toContain(line);
    expect(banner).not.toMatch(/s3cret|hunter2/);
  });
});
