import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The demo page's files, ready to serve. */
export interface DemoAssets {
  readonly html: string;
  readonly css: string;
  /** The page script with the client SDK bundled in (ESM). */
  readonly script: string;
}

/**
 * Where the page's sources are: src/client/demo, found from the package root, which is three levels
 * up both from src/server/demo (tsx) and from dist/server/demo (a build run with DEMO=true).
 */
export const DEMO_SOURCE_DIR = fileURLToPath(new URL("../../../src/client/demo/", import.meta.url));

const built = new Map<string, Promise<DemoAssets>>();

/**
 * Bundles the page script with esbuild's JS API, once per process and source directory. No bundle is
 * checked in: what the browser runs is always the SDK in this tree. esbuild is a devDependency, loaded
 * only here, and the demo is refused in production, so a production install never needs it.
 */
export function buildDemoAssets(sourceDir: string = DEMO_SOURCE_DIR): Promise<DemoAssets> {
  let assets = built.get(sourceDir);
  if (!assets) {
    assets = build(sourceDir);
    // A failed build is retried by the next server, not cached.
    assets.catch(() => built.delete(sourceDir));
    built.set(sourceDir, assets);
  }
  return assets;
}

async function build(sourceDir: string): Promise<DemoAssets> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (cause) {
    throw new Error("The demo page needs esbuild (a devDependency): run `npm install`, or set DEMO=false", {
      cause,
    });
  }
  const [html, css, result] = await Promise.all([
    readFile(join(sourceDir, "index.html"), "utf8"),
    readFile(join(sourceDir, "demo.css"), "utf8"),
    esbuild.build({
      entryPoints: [join(sourceDir, "main.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      minify: false,
      sourcemap: false,
      legalComments: "none",
      logLevel: "silent",
    }),
  ]);
  const script = result.outputFiles[0]?.text;
  if (!script) throw new Error("esbuild produced no demo bundle");
  return Object.freeze({ html, css, script });
}
