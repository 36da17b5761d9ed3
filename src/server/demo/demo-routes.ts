import type { FastifyInstance, FastifyReply } from "fastify";
import { DEMO_CSP } from "../security/security-headers.js";
import { buildDemoAssets } from "./build-demo-assets.js";

export interface DemoRoutesOptions {
  /** The page's sources (index.html, demo.css, main.ts); default src/client/demo. */
  readonly sourceDir?: string;
}

/**
 * Serves the demo page under /demo: registered by createServer only when `config.http.demo` is true
 * (development by default; refused in production). The page script is bundled at startup.
 */
export async function demoRoutes(app: FastifyInstance, options: DemoRoutesOptions = {}): Promise<void> {
  const assets = await buildDemoAssets(options.sourceDir);

  const send = (reply: FastifyReply, type: string, body: string) =>
    reply
      .header("content-type", `${type}; charset=utf-8`)
      .header("content-security-policy", DEMO_CSP)
      .header("x-frame-options", "DENY")
      // Rebuilt at every start: a cached copy would outlive the SDK it was built from.
      .header("cache-control", "no-store")
      .send(body);

  app.get("/demo", async (_request, reply) => send(reply, "text/html", assets.html));
  app.get("/demo/", async (_request, reply) => send(reply, "text/html", assets.html));
  app.get("/demo/app.js", async (_request, reply) => send(reply, "text/javascript", assets.script));
  app.get("/demo/demo.css", async (_request, reply) => send(reply, "text/css", assets.css));
}
