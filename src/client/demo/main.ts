import {
  CreateNoteDocument,
  createHoldfastClient,
  HoldfastClientError,
  MeDocument,
  type NoteFields,
  NotesDocument,
  type SessionFields,
  SessionsDocument,
  type UserFields,
} from "../browser.js";
import { type LiveFeed, mountLiveFeed } from "./live-feed.js";

// The demo page: the SDK's browser defaults (DPoP key in IndexedDB, refresh token in the HttpOnly
// cookie, refreshes shared between tabs) behind a small UI. Everything is rendered with textContent,
// never innerHTML, so a note's title cannot become markup.

type PageState = "loading" | "signed-out" | "signed-in" | "session-lost" | "error";

/** Counted from this tab's own refresh calls; a refresh done by another tab arrives as a message instead. */
const stats = { refreshes: 0, failedAttempts: 0, loads: 0 };

const client = createHoldfastClient({
  endpoint: "/graphql",
  fetch: countingFetch,
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
const noteForm = element<HTMLFormElement>("note-form");

function setStatus(state: PageState, text: string): void {
  statusLine.dataset.state = state;
  statusLine.dataset.refreshes = String(stats.refreshes);
  statusLine.dataset.failedAttempts = String(stats.failedAttempts);
  statusLine.dataset.loads = String(stats.loads);
  statusLine.textContent = text;
}

function signedInStatus(): void {
  const { expiresAt } = client.state();
  const until = expiresAt ? `; access token valid until ${expiresAt.toLocaleTimeString()}` : "";
  setStatus(
    "signed-in",
    `Signed in. Refreshes: ${stats.refreshes}, failed refresh attempts: ${stats.failedAttempts}${until}.`,
  );
}

let feed: LiveFeed | null = null;

function showSignedOut(state: "signed-out" | "session-lost", text: string): void {
  feed?.stop();
  feed = null;
  signedIn.hidden = true;
  signedOut.hidden = false;
  for (const id of ["notes", "sessions"]) element(id).replaceChildren();
  setStatus(state, text);
}

function showError(error: unknown, doing: string): void {
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

function item(text: string, extra?: string): HTMLLIElement {
  const li = document.createElement("li");
  li.append(text);
  if (extra) {
    const small = document.createElement("small");
    small.className = "muted";
    small.textContent = ` ${extra}`;
    li.append(small);
  }
  return li;
}

function renderMe(me: UserFields): void {
  element("me-name").textContent = me.displayName;
  element("me-email").textContent = me.email ? `<${me.email}>` : "";
}

function renderNotes(notes: readonly NoteFields[]): void {
  const list = element<HTMLUListElement>("notes");
  list.replaceChildren(
    ...(notes.length === 0
      ? [item("No notes yet.")]
      : notes.map((note) => {
          const li = item(note.title, note.body ?? "");
          li.dataset.noteId = note.id;
          return li;
        })),
  );
}

function renderSessions(sessions: readonly SessionFields[]): void {
  const list = element<HTMLUListElement>("sessions");
  list.replaceChildren(
    ...sessions.map((session) => {
      const since = new Date(session.createdAt).toLocaleString();
      const used = new Date(session.lastUsedAt).toLocaleTimeString();
      const li = item(
        `${session.current ? "This session" : "Session"} since ${since}`,
        `last used ${used}${session.boundToKey ? ", bound to a DPoP key" : ""}${
          session.userAgent ? `, ${session.userAgent}` : ""
        }`,
      );
      li.dataset.sessionId = session.id;
      li.dataset.current = String(session.current);
      return li;
    }),
  );
}

// --- actions ---------------------------------------------------------------------------------------

/** Three calls at once: the first to find the token due refreshes it, the others wait for that refresh. */
async function loadAll(): Promise<void> {
  const [me, notes, sessions] = await Promise.all([
    client.request(MeDocument),
    client.request(NotesDocument, { first: 20 }),
    client.request(SessionsDocument),
  ]);
  if (!me.me) throw new HoldfastClientError("UNAUTHENTICATED", "Not signed in");
  renderMe(me.me);
  renderNotes(notes.me?.notes.edges.map((edge) => edge.node) ?? []);
  renderSessions(sessions.sessions);
  stats.loads += 1;
  feed ??= mountLiveFeed(client, element<HTMLUListElement>("live-feed"));
  signedOut.hidden = true;
  signedIn.hidden = false;
  signedInStatus();
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

async function onNoteSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const data = new FormData(noteForm);
  try {
    await client.request(CreateNoteDocument, {
      input: { title: String(data.get("title") ?? ""), body: String(data.get("body") ?? "") },
    });
    noteForm.reset();
    await loadAll();
  } catch (error) {
    showError(error, "Adding the note");
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

async function start(): Promise<void> {
  authForm.addEventListener("submit", (event) => void onAuthSubmit(event));
  noteForm.addEventListener("submit", (event) => void onNoteSubmit(event));
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
