import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { FRONT_PAGE_CSP } from "../security/security-headers.js";

export interface FrontPageOptions {
  /** The GraphQL endpoint's public URL, for the curl example. */
  readonly endpointUrl: string;
  /** Whether /demo is served. */
  readonly demo: boolean;
  /** Whether Apollo Sandbox is served in a browser (development): at /graphql, or /graphql?sandbox with the IDE. */
  readonly sandbox: boolean;
  /** Whether /graphql in a browser is Holdfast's IDE (GRAPHQL_IDE). */
  readonly ide?: boolean;
  /** Serve the project README as text at /docs/README.md (with the demo: development only). */
  readonly readme: boolean;
}

export const README_PATH = "/docs/README.md";
/** The package root's README, three levels up both from src/server/front-page (tsx) and dist/server/front-page. */
const README_FILE = fileURLToPath(new URL("../../../README.md", import.meta.url));

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The copy-paste example (bash): register a fresh account, keep its access token, ask who you are.
 * Plain HTTP without DPoP, so the token is a Bearer token (the console at /demo shows the difference).
 */
export function curlExample(endpointUrl: string): string {
  const json = `-H 'content-type: application/json'`;
  return [
    `TOKEN=$(curl -s ${endpointUrl} ${json} -d '{"query":`,
    ` "mutation { register(input: {email: \\"ada'$(date +%s)'@example.com\\", password: \\"correct horse battery\\", displayName: \\"Ada\\"}) { accessToken } }"}' \\`,
    ` | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')`,
    `curl -s ${endpointUrl} ${json} -H "authorization: Bearer $TOKEN" \\`,
    ` -d '{"query":"{ me { id displayName } sessions { id current } }"}'`,
  ].join("\n");
}

/**
 * `/`: where a newcomer lands. Static HTML with no script, no style and no outside resource, so it
 * works offline and under a CSP that allows nothing to load.
 */
export function frontPageHtml(options: FrontPageOptions): string {
  const links: string[] = [];
  if (options.demo)
    links.push(
      `<li><a href="/demo">/demo</a> — the security console: sign in, watch your token, try to steal it.</li>`,
    );
  if (options.ide)
    links.push(
      `<li><a href="/graphql">/graphql</a> — the IDE: GraphiQL signed in with this browser's key (works offline)` +
        (options.sandbox
          ? `; <a href="/graphql?sandbox">Apollo Sandbox</a> (Apollo's CDN: needs the internet).</li>`
          : ".</li>"),
    );
  else if (options.sandbox)
    links.push(
      `<li><a href="/graphql">/graphql</a> — Apollo Sandbox in the browser (loads from Apollo's CDN: needs the internet).</li>`,
    );
  else links.push(`<li><code>POST /graphql</code> — the GraphQL endpoint.</li>`);
  if (options.readme) links.push(`<li><a href="${README_PATH}">README</a> — the documentation.</li>`);
  links.push(
    `<li><a href="/.well-known/jwks.json">/.well-known/jwks.json</a> — public signing keys; ` +
      `<a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a> — health.</li>`,
  );
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Holdfast</title>
  </head>
  <body>
    <h1>Holdfast</h1>
    <p>A GraphQL API whose access tokens are worth almost nothing to a thief: short-lived, rotating,
      revocable, narrowed and bound to a key the thief does not have (DPoP).</p>
    <ul id="links">
      ${links.join("\n      ")}
    </ul>
    <h2>Try it with curl</h2>
    <pre id="curl">${escapeHtml(curlExample(options.endpointUrl))}</pre>
    <p>Put the <code>accessToken</code> of the first answer in <code>TOKEN</code>. Tokens issued without a
      DPoP proof are plain Bearer tokens; the console at /demo shows what binding them to a key changes.</p>
  </body>
</html>
`;
}

/**
 * The tab icon: a shield, as SVG. Browsers ask every page's origin for /favicon.ico whatever the
 * page says; Chromium and Firefox take an SVG body there by its content type, so no binary is kept.
 */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<path d="M16 2 4 6v9c0 7.5 5.1 13 12 15 6.9-2 12-7.5 12-15V6z" fill="#1f4e79"/>' +
  '<path d="m10 16 4 4 8-9" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>' +
  "</svg>";

/** Registers `/`, `/favicon.ico` (and the README at /docs/README.md when configured). */
export async function frontPageRoutes(app: FastifyInstance, options: FrontPageOptions): Promise<void> {
  const html = frontPageHtml(options);
  app.get("/favicon.ico", async (_request, reply) =>
    reply
      .header("content-type", "image/svg+xml")
      .header("content-security-policy", FRONT_PAGE_CSP)
      .header("cache-control", "public, max-age=86400")
      .send(FAVICON_SVG),
  );
  app.get("/", async (_request, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", FRONT_PAGE_CSP)
      .send(html),
  );
  if (options.readme) {
    app.get(README_PATH, async (_request, reply) =>
      reply.header("content-type", "text/plain; charset=utf-8").send(await readFile(README_FILE, "utf8")),
    );
  }
}
