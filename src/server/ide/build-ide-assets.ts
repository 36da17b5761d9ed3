import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The IDE's files by URL name (`app.js`, `app.css`, chunks, the font, the workers), ready to serve. */
export interface IdeAssets {
  readonly html: string;
  readonly files: ReadonlyMap<string, { readonly type: string; readonly body: Uint8Array }>;
  /** Bytes of every file, for the log. */
  readonly totalBytes: number;
}

/** src/client/ide, from the package root (three levels up from src/server/ide and dist/server/ide). */
export const IDE_SOURCE_DIR = fileURLToPath(new URL("../../../src/client/ide/", import.meta.url));

/** Monaco's workers, each its own classic-script bundle: a worker gets none of the page's chunks. */
const WORKERS = {
  "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
  "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
  "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
};

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".ttf": "font/ttf",
};

let built: Promise<IdeAssets> | null = null;

/**
 * Bundles the IDE (GraphiQL 5, React, Monaco and the SDK from this tree) with esbuild, once per
 * process; nothing is checked in or fetched from a CDN. esbuild and GraphiQL are devDependencies,
 * loaded only here: a production install without them leaves the IDE off (see ide-routes.ts).
 */
export function buildIdeAssets(): Promise<IdeAssets> {
  if (!built) {
    built = build(IDE_SOURCE_DIR);
    // A failed build is retried by the next request, not cached.
    built.catch(() => {
      built = null;
    });
  }
  return built;
}

async function build(sourceDir: string): Promise<IdeAssets> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (cause) {
    throw new Error("The IDE needs esbuild (a devDependency): run `npm install`, or set GRAPHQL_IDE=false", {
      cause,
    });
  }
  const common = {
    bundle: true,
    platform: "browser",
    target: "es2022",
    write: false,
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    // React and GraphiQL pick their production builds from it.
    define: { "process.env.NODE_ENV": '"production"' },
    outdir: "/ide",
  } as const;
  const [html, css, page, workers] = await Promise.all([
    readFile(join(sourceDir, "index.html"), "utf8"),
    readFile(join(sourceDir, "ide.css")),
    esbuild.build({
      ...common,
      entryPoints: { app: join(sourceDir, "main.ts") },
      format: "esm",
      // Monaco, the language services and prettier are loaded on demand, as GraphiQL asks for them.
      splitting: true,
      loader: { ".ttf": "file" },
      assetNames: "[name]-[hash]",
      chunkNames: "chunk-[hash]",
    }),
    esbuild.build({ ...common, entryPoints: WORKERS, format: "iife" }),
  ]);
  const files = new Map<string, { type: string; body: Uint8Array }>();
  for (const file of [...page.outputFiles, ...workers.outputFiles]) {
    const name = basename(file.path);
    files.set(name, {
      type: TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream",
      body: file.contents,
    });
  }
  files.set("ide.css", { type: "text/css", body: css });
  if (!files.has("app.js") || !files.has("app.css")) throw new Error("esbuild produced no IDE bundle");
  let totalBytes = 0;
  for (const { body } of files.values()) totalBytes += body.byteLength;
  return Object.freeze({ html, files, totalBytes });
}
