import type { HoldfastClient, NoteFields, SessionFields, UserFields } from "../browser.js";
import type { DemoTokenEvent } from "../demo-token-tap.js";

// The console's frame: panels register themselves here and the page mounts them in order. A panel is
// one file under panels/ plus one import line in panels/index.ts, so panels written in parallel
// (passkeys, live notes…) merge without touching each other.

export interface ConsoleContext {
  readonly client: HoldfastClient;
  /** The endpoint as this page reaches it (its own origin), which is what DPoP `htu` names. */
  readonly endpoint: string;
  /** The latest access token the SDK handed to this demo (demo-only tap), or null when signed out. */
  token(): DemoTokenEvent | null;
  /**
   * Native-app mode only (/demo?delivery=body): the current refresh token, from the store this page
   * gave the SDK. Null in browser mode, where it is in an HttpOnly cookie no script can read.
   */
  refreshTokenCopy(): Promise<string | null>;
  /** Reloads the signed-in view (me, notes, sessions) the way the Reload button does. */
  reload(): Promise<void>;
  /** Shows the signed-out view with this reason in the status line. */
  signedOut(state: "signed-out" | "session-lost", text: string): void;
  /** Runs `work`, showing its failure in the status line. */
  attempt(doing: string, work: () => Promise<void>): Promise<void>;
}

/** What one load of the signed-in view fetched (me, notes and sessions at once). */
export interface SignedInView {
  readonly me: UserFields;
  readonly notes: readonly NoteFields[];
  readonly sessions: readonly SessionFields[];
}

/** What a panel reacts to; every hook is optional. */
export interface PanelHooks {
  /** After sign-in and after every reload of the signed-in view. */
  onSignedIn?(view: SignedInView): void;
  onSignedOut?(reason: string): void;
  /** The SDK adopted a new access token (sign-in, refresh, or another tab's refresh). */
  onToken?(event: DemoTokenEvent): void;
}

export interface ConsolePanel {
  /** The section's id, kebab-case. */
  readonly id: string;
  readonly title: string;
  /** One sentence: what this panel shows. */
  readonly explain: string;
  /** The README section behind it (its heading text). */
  readonly readmeSection: string;
  /** Lower first; default 100. */
  readonly order?: number;
  /** Only shown while signed in (default true). */
  readonly signedInOnly?: boolean;
  mount(body: HTMLElement, context: ConsoleContext): PanelHooks | undefined;
}

const registered: ConsolePanel[] = [];

export function registerPanel(panel: ConsolePanel): void {
  if (registered.some((p) => p.id === panel.id))
    throw new Error(`console panel ${panel.id} registered twice`);
  registered.push(panel);
}

export interface MountedPanel {
  readonly panel: ConsolePanel;
  readonly section: HTMLElement;
  readonly hooks: PanelHooks;
}

/** Builds each registered panel's section (heading, sentence, README link) and mounts it. */
export function mountPanels(container: HTMLElement, context: ConsoleContext): MountedPanel[] {
  const ordered = [...registered].sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
  return ordered.map((panel) => {
    const section = el("section", { id: `panel-${panel.id}`, className: "panel" });
    section.dataset.signedInOnly = String(panel.signedInOnly ?? true);
    const explain = el("p", { className: "explain" }, `${panel.explain} `);
    const link = el("a", { href: `/docs/README.md` }, `README: ${panel.readmeSection}`);
    link.target = "_blank";
    link.rel = "noopener";
    explain.append(link);
    const body = el("div", { className: "panel-body" });
    section.append(el("h2", {}, panel.title), explain, body);
    container.append(section);
    return { panel, section, hooks: panel.mount(body, context) ?? {} };
  });
}

// --- DOM helpers: textContent only, never innerHTML, so no server value can become markup ----------

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Pick<HTMLElement, "id" | "className" | "title">> & { href?: string; type?: string } = {},
  ...children: (string | Node)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.id) node.id = props.id;
  if (props.className) node.className = props.className;
  if (props.title) node.title = props.title;
  if (props.href) node.setAttribute("href", props.href);
  if (props.type) node.setAttribute("type", props.type);
  node.append(...children);
  return node;
}

export function button(text: string, onClick: () => void, id?: string): HTMLButtonElement {
  const b = el("button", { type: "button", ...(id ? { id } : {}) }, text);
  b.addEventListener("click", onClick);
  return b;
}

/** `HH:MM:SS` in the page's locale. */
export function clockTime(date: Date): string {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** The first and last characters of a secret, so a screenshot shows which one without showing it. */
export function fingerprint(secret: string): string {
  return secret.length <= 16 ? "…" : `${secret.slice(0, 10)}…${secret.slice(-6)} (${secret.length} chars)`;
}
