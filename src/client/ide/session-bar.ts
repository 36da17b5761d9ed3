import { type HoldfastClient, HoldfastClientError, MeDocument } from "../browser.js";
import type { StreamEnd } from "./ide-fetcher.js";

// The IDE's sign-in panel: register or sign in with the SDK, show who is signed in, log out. The
// page never sees a token: the SDK keeps it in its closure and the key in IndexedDB, non-extractable.
// Text is set with textContent only.

type SessionState = "loading" | "signed-out" | "signed-in" | "session-lost" | "error";

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface SessionBar {
  /** Whether operations go out signed (the toggle). */
  signed(): boolean;
  show(state: SessionState, text: string): void;
  stream(event: { readonly started: true } | { readonly ended: StreamEnd }): void;
}

export function mountSessionBar(client: HoldfastClient): SessionBar {
  const session = element<HTMLSpanElement>("session");
  const form = element<HTMLFormElement>("sign-in");
  const logout = element<HTMLButtonElement>("logout");
  const useKey = element<HTMLInputElement>("use-key");
  const stream = element<HTMLSpanElement>("stream");
  let live = 0;

  const show = (state: SessionState, text: string) => {
    session.dataset.state = state;
    session.textContent = text;
    form.hidden = state === "signed-in" || state === "loading";
    logout.hidden = state !== "signed-in";
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    const data = new FormData(form);
    const email = String(data.get("email") ?? "");
    const password = String(data.get("password") ?? "");
    const displayName = String(data.get("displayName") ?? "") || email.split("@")[0] || email;
    show("loading", submitter?.value === "register" ? "Registering…" : "Signing in…");
    const done =
      submitter?.value === "register"
        ? client.register({ email, password, displayName })
        : client.login({ email, password });
    done.then(
      (info) => {
        form.reset();
        show("signed-in", `Signed in as ${info.user.email ?? info.user.displayName}`);
      },
      (error: unknown) => show("error", failure(error)),
    );
  });

  logout.addEventListener("click", () => {
    show("loading", "Logging out…");
    client.logout().then(
      () => show("signed-out", "Signed out."),
      (error: unknown) => show("error", failure(error)),
    );
  });

  // A session that outlived the page (refresh cookie + the key in IndexedDB) is picked up silently.
  client
    .resume()
    .then(async (resumed) => {
      if (!resumed) return show("signed-out", "Not signed in.");
      const { me } = (await client.request(MeDocument)).data;
      show("signed-in", `Signed in as ${me?.email ?? me?.displayName ?? "?"}`);
    })
    .catch((error: unknown) => show("error", failure(error)));

  return {
    signed: () => useKey.checked,
    show,
    stream(event) {
      live += "started" in event ? 1 : -1;
      stream.dataset.state = live > 0 ? "live" : "ended";
      stream.dataset.live = String(live);
      if ("started" in event) stream.textContent = `subscriptions running: ${live}`;
      else if (live === 0) stream.textContent = `subscription ended (${endText(event.ended)})`;
      if ("ended" in event) stream.dataset.ended = endText(event.ended);
    },
  };
}

function endText(end: StreamEnd): string {
  return end.kind === "complete" ? "complete" : end.code;
}

function failure(error: unknown): string {
  if (error instanceof HoldfastClientError)
    return `${error.code}${error.reason ? ` (${error.reason})` : ""}: ${error.message}`;
  return String(error);
}
