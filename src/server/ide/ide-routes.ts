import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { IDE_CSP } from "../security/security-headers.js";
import { buildIdeAssets, type IdeAssets } from "./build-ide-assets.js";

export interface IdeOptions {
  /** The GraphQL path (`/graphql`): GET from a browser there opens the IDE. */
  readonly graphqlPath: string;
  /** Adds a README link to the bar when the server serves the README. */
  readonly readmePath: string | null;
  readonly logger: Logger;
}

/** Where the IDE's scripts, styles, font and workers are served. */
export const IDE_ASSET_PATH = "/ide";

/**
 * Holdfast's IDE (GraphiQL 5, src/client/ide) at `GET /graphql` in a browser. Installed on the root
 * instance, not registered as a plugin: its hook must see the GraphQL route, which is Apollo's. A
 * GET that asks for HTML and is not `?sandbox` gets the IDE; everything else (POST, GET with JSON,
 * `/graphql?sandbox` → Apollo's landing page) goes on to Apollo untouched.
 *
 * The bundle is built in the background from start (a few seconds: the first page load waits for it).
 * If it cannot be built — no devDependencies in a production install — the log says so once and
 * /graphql keeps Apollo's landing page.
 */
export function installIde(app: FastifyInstance, options: IdeOptions): void {
  let assets: IdeAssets | null = null;
  let failed = false;
  const ready = buildIdeAssets().then(
    (built) => {
      assets = built;
      options.logger.info(
        { files: built.files.size, bytes: built.totalBytes },
        "the IDE is bundled (GET /graphql in a browser)",
      );
      return built;
    },
    (error: unknown) => {
      failed = true;
      options.logger.warn(
        { err: error },
        "the IDE could not be bundled: /graphql keeps Apollo's landing page",
      );
      return null;
    },
  );

  app.addHook("onRequest", async (request, reply) => {
    if (failed || !wantsIde(request, options.graphqlPath)) return;
    const built = assets ?? (await ready);
    if (!built) return;
    return reply
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", IDE_CSP)
      .header("cache-control", "no-store")
      .send(pageHtml(built, options));
  });

  app.get<{ Params: { file: string } }>(`${IDE_ASSET_PATH}/:file`, async (request, reply) => {
    const built = assets ?? (await ready);
    const file = built?.files.get(request.params.file);
    if (!file) return reply.code(404).send({ error: "not_found" });
    return (
      reply
        .header("content-type", `${file.type}${file.type.startsWith("text/") ? "; charset=utf-8" : ""}`)
        // Rebuilt at every start: a cached copy would outlive the SDK it was built from.
        .header("cache-control", "no-store")
        .send(Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength))
    );
  });
}

/** A browser's navigation to the endpoint: GET, HTML preferred over JSON, and not asking for Sandbox. */
function wantsIde(request: FastifyRequest, graphqlPath: string): boolean {
  if (request.method !== "GET") return false;
  const [path, query = ""] = request.url.split("?", 2);
  if (path !== graphqlPath || new URLSearchParams(query).has("sandbox")) return false;
  const accept = request.headers.accept ?? "";
  const html = accept.indexOf("text/html");
  const json = accept.indexOf("application/json");
  return html !== -1 && (json === -1 || html < json);
}

function pageHtml(built: IdeAssets, options: IdeOptions): string {
  const readme = options.readmePath
    ? `<a href="${options.readmePath}" title="README: the IDE, and Apollo Sandbox's preflight script">README</a>`
    : "";
  return built.html.replace("<!--readme-->", readme);
}
