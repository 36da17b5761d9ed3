import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { curlExample, escapeHtml } from "./front-page-routes.js";

/** What Sandbox opens with: who am I, and my sessions (run it after the preflight script signed in). */
export const SANDBOX_INITIAL_DOCUMENT = `# Holdfast: set up the preflight script from the README ("Apollo Sandbox"), then run Me.
query Me {
  me { id displayName email }
  sessions { id current boundToKey createdAt }
}
`;

export interface SandboxLandingPageOptions {
  readonly endpointUrl: string;
  readonly demo: boolean;
}

/** Apollo's fallback block, which only guesses "you might be offline" and links nowhere. */
const APOLLO_FALLBACK = /<div class="fallback">[\s\S]*?<\/div>/;
/** The CDN script tag that defines window.EmbeddedSandbox. */
const SANDBOX_SCRIPT = /(<script nonce="([0-9a-f]+)" src="https:\/\/embeddable-sandbox[^"]*"><\/script>)/;

/**
 * Apollo's local landing page (embedded Sandbox, with cookies, an initial document) with a fallback
 * that says what to do when Apollo's CDN cannot be reached: the Sandbox script is loaded
 * synchronously, so a nonce'd script right after it knows whether it arrived; if not, it removes the
 * empty Sandbox frame and shows links to `/`, `/demo` and a curl example. The page's own CSP (Apollo's
 * meta tag, nonce-based) is kept as is.
 */
export function sandboxLandingPage(options: SandboxLandingPageOptions): ApolloServerPlugin<BaseContext> {
  const apollo = ApolloServerPluginLandingPageLocalDefault({
    embed: { runTelemetry: false },
    includeCookies: true,
    document: SANDBOX_INITIAL_DOCUMENT,
    headers: {},
  });
  return {
    async serverWillStart(service) {
      const listener = await apollo.serverWillStart?.(service);
      const render = listener?.renderLandingPage;
      if (!render) return listener;
      return {
        ...listener,
        async renderLandingPage() {
          const page = await render.call(listener);
          const html = page.html;
          return {
            html: async () => withFallback(typeof html === "string" ? html : await html(), options),
          };
        },
      };
    },
  };
}

function withFallback(html: string, options: SandboxLandingPageOptions): string {
  const script = SANDBOX_SCRIPT.exec(html);
  if (!script) return html;
  const nonce = script[2]!;
  const fallback = `<div id="sandbox-offline" hidden>
  <h1>Apollo Sandbox could not load</h1>
  <p>Sandbox is a page from Apollo's CDN (embeddable-sandbox.cdn.apollographql.com); this browser could not
    reach it, perhaps because the machine is offline. Holdfast itself is running:</p>
  <ul>
    <li><a href="/">/</a> — start here</li>
    ${options.demo ? `<li><a href="/demo">/demo</a> — the security console (works offline)</li>` : ""}
  </ul>
  <p>Or call the API directly:</p>
  <pre>${escapeHtml(curlExample(options.endpointUrl))}</pre>
</div>`;
  const detect = `<script nonce="${nonce}">
  if (!window.EmbeddedSandbox) {
    document.getElementById("embeddableSandbox")?.remove();
    document.getElementById("sandbox-offline").hidden = false;
  }
</script>`;
  // Functions, not replacement strings: the curl example holds a `$`.
  return html.replace(APOLLO_FALLBACK, () => fallback).replace(SANDBOX_SCRIPT, (tag) => `${tag}\n${detect}`);
}
