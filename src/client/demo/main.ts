import {
  createHoldfastClient,
  createMemoryRefreshTokenStore,
  HoldfastClientError,
  MeDocument,
  NotesDocument,
  SessionsDocument,
} from "../browser.js";
import type { DemoTokenEvent } from "../demo-token-tap.js";
import { type ConsoleContext, type MountedPanel, mountPanels, type SignedInView } from "./console.js";
import "./panels/index.js";
import { askForStepUp } from "./step-up-prompt.js";

// The security console: the SDK's browser defaults (DPoP key in IndexedDB, refresh token in the
// HttpOnly cookie, refreshes shared between tabs) with panels that show what they do. Everything is
// rendered with textContent, never innerHTML, so a note's title cannot become markup.

type PageState = "loading" | "signed-out" | "signed-in" | "session-lost" | "error";

/** Counted from this tab's own refresh calls; a refresh done by another tab arrives as a message instead. */
const stats = { refreshes: 0, failedAttempts: 0, loads: 0 };

/** Native-app mode (/demo?delivery=body): the refresh token comes in the body and lives in this page's memory. */
const nativeMode = new URLSearchParams(location.search).get("delivery") === "body";
const refreshTokenStore = nativeMode ? createMemoryRefreshTokenStore() : null;
const endpoint = new URL("/graphql", location.href).href;

let latestToken: DemoTokenEvent | null = null;
let panels: MountedPanel[] = [];

const client = createHoldfastClient({
  endpoint,
  fetch: countingFetch,
  ...(refreshTokenStore ? { refreshTokenStore } : {}),
  // DEMO ONLY: hands each new access token to this page so the console can decode it and play the
  // thief. An application never sets this (see src/client/demo-token-tap.ts).
  unsafeDemoTokenTap: (event) => {
    latestToken = event;
    for (const { hooks } of panels) hooks.onToken?.(event);
  },
  // RFC 9470 step-up: an account action asks for a recent sign-in; the SDK retries after it.
  onStepUpRequired: askForStepUp,
  onSessionLost: (reason) => showSignedOut("session-lost", `Session lost (${reason}). Sign in again.`),
  onLogout: ({ source }) =>
    showSignedOut("signed-out", source === "other_holder" ? "Signed out in another tab." : "Signed out."),
});

/**
 * Counts refresh attempts by operation name (the request body holds no token: cookie delivery). A
 * refused refresh still answers HTTP 200 with a GraphQL error, so success is read from a copy of the body.
 */
async function countingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (operationName(init?.body) !== "Refresh") return fetch(input, init);
  // A page opened without a session probes the cookie once; that answer is not a failure to report.
  const hadSession = client.state().authenticated;
  try {
    const response = await fetch(input, init);
    if (await refreshSucceeded(response)) stats.refreshes += 1;
    else if (hadSession) stats.failedAttempts += 1;
    return response;
  } catch (error) {
    if (hadSession) stats.failedAttempts += 1;
    throw error;
  }
}

async function refreshSucceeded(response: Response): Promise<boolean> {
  if (!response.ok) return false;
  try {
    const body = (await response.clone().json()) as { errors?: unknown[] };
    return !body.errors?.length;
  } catch {
    return false;
  }
}

function operationName(body: unknown): string | null {
  if (typeof body !== "string") return null;
  try {
    const parsed = JSON.parse(body) as { operationName?: unknown };
    return typeof parsed.operationName === "string" ? parsed.operationName : null;
  } catch {
    return null;
  }
}

// --- DOM -------------------------------------------------------------------------------------------

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`demo page: #${id} is missing`);
  return found as T;
}

const statusLine = element<HTMLParagraphElement>("status");
const signedOut = element<HTMLElement>("signed-out");
const signedIn = element<HTMLElement>("signed-in");
const authForm = element<HTMLFormElement>("auth-form");

function setStatus(state: PageState, text: string): void {
  statusLine.dataset.state = state;
  statusLine.dataset.refreshes = String(stats.refreshes);
  statusLine.dataset.failedAttempts = String(stats.failedAttempts);
  statusLine.dataset.loads = String(stats.loads);
  statusLine.textContent = text;
}

function signedInStatus(): void {
  setStatus(
    "signed-in",
    `Signed in${nativeMode ? " (native-app mode)" : ""}. Refreshes: ${stats.refreshes}, failed refresh attempts: ${stats.failedAttempts}.`,
  );
}

function showPanels(signedInNow: boolean): void {
  for (const { section } of panels) section.hidden = !signedInNow && section.dataset.signedInOnly === "true";
}

function showSignedOut(state: "signed-out" | "session-lost", text: string): void {
  const wasSignedIn = !signedIn.hidden;
  signedIn.hidden = true;
  signedOut.hidden = false;
  latestToken = null;
  showPanels(false);
  if (wasSignedIn || state === "session-lost") for (const { hooks } of panels) hooks.onSignedOut?.(text);
  setStatus(state, text);
}

function showError(error: unknown, doing: string): void {
  // The session ended during the call (revoked elsewhere, logged out): onSessionLost/onLogout said why.
  const ended = statusLine.dataset.state === "session-lost" || statusLine.dataset.state === "signed-out";
  if (ended && !client.state().authenticated) return;
  if (error instanceof HoldfastClientError && error.code === "SESSION_LOST") {
    // onSessionLost has already said why (or the session ended by logout while the call waited).
    const state = statusLine.dataset.state;
    if (state !== "session-lost" && state !== "signed-out")
      showSignedOut("session-lost", "Session lost. Sign in again.");
    return;
  }
  const detail =
    error instanceof HoldfastClientError
      ? `${error.code}${error.reason ? ` (${error.reason})` : ""}`
      : "unexpected error";
  setStatus("error", `${doing} failed: ${detail}.`);
}

// --- actions ---------------------------------------------------------------------------------------

/** Three calls at once: the first to find the token due refreshes it, the others wait for that refresh. */
async function loadAll(): Promise<void> {
  // Field errors in a partial answer leave nulls the view already handles; no data at all throws.
  const [{ data: me }, { data: notes }, { data: sessions }] = await Promise.all([
    client.request(MeDocument),
    client.request(NotesDocument, { first: 20 }),
    client.request(SessionsDocument),
  ]);
  if (!me.me) throw new HoldfastClientError("UNAUTHENTICATED", "Not signed in");
  const view: SignedInView = {
    me: me.me,
    notes: notes.me?.notes.edges.map((edge) => edge.node) ?? [],
    sessions: sessions.sessions,
  };
  element("me-name").textContent = view.me.displayName;
  element("me-email").textContent = view.me.email ? `<${view.me.email}>` : "";
  for (const { hooks } of panels) hooks.onSignedIn?.(view);
  stats.loads += 1;
  signedOut.hidden = true;
  signedIn.hidden = false;
  showPanels(true);
  signedInStatus();
}

async function attempt(doing: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    showError(error, doing);
  }
}

async function onAuthSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const data = new FormData(authForm);
  const email = String(data.get("email") ?? "");
  const password = String(data.get("password") ?? "");
  const register = (event.submitter as HTMLButtonElement | null)?.value === "register";
  setStatus("loading", register ? "Registering…" : "Signing in…");
  try {
    if (register) {
      const displayName = String(data.get("displayName") ?? "").trim() || email.split("@")[0] || email;
      await client.register({ email, password, displayName });
    } else {
      await client.login({ email, password });
    }
    authForm.reset();
    await loadAll();
  } catch (error) {
    showError(error, register ? "Registration" : "Sign-in");
  }
}

async function onReload(): Promise<void> {
  setStatus("loading", "Loading…");
  try {
    await loadAll();
  } catch (error) {
    showError(error, "Loading");
  }
}

async function onLogout(): Promise<void> {
  const confirmed = await client.logout();
  showSignedOut("signed-out", confirmed ? "Signed out." : "Signed out here; the server did not confirm.");
}

const context: ConsoleContext = {
  client,
  endpoint,
  token: () => latestToken,
  refreshTokenCopy: async () => (refreshTokenStore ? refreshTokenStore.get() : null),
  reload: onReload,
  signedOut: showSignedOut,
  attempt,
};

async function start(): Promise<void> {
  panels = mountPanels(element("panels"), context);
  showPanels(false);
  element("mode").textContent = nativeMode
    ? "Native-app mode: the refresh token comes in the response body and lives in this page's memory (a reload signs you out)."
    : "Browser mode: the refresh token is in an HttpOnly cookie.";
  authForm.addEventListener("submit", (event) => void onAuthSubmit(event));
  element("reload").addEventListener("click", () => void onReload());
  element("logout").addEventListener("click", () => void onLogout());
  try {
    // After a reload the access token is gone; the refresh cookie and the IndexedDB key bring it back.
    if (await client.resume()) await loadAll();
    else showSignedOut("signed-out", "Signed out.");
  } catch (error) {
    showSignedOut("signed-out", "Signed out.");
    showError(error, "Resuming the session");
  }
}

void start();
