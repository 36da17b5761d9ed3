import { type HoldfastClient, HoldfastClientError, NoteEventsDocument } from "../browser.js";

// The demo's live notes feed: a `noteEvents` subscription on the page's client. It runs while the
// session lives and stops the moment the server closes the connection (logout or revocation from
// another tab or device), showing why. Rendered with textContent only.

export interface LiveFeed {
  stop(): void;
}

export function mountLiveFeed(client: HoldfastClient, list: HTMLUListElement): LiveFeed {
  list.replaceChildren();
  list.dataset.state = "live";
  list.dataset.events = "0";
  let events = 0;
  const stop = client.subscribe(NoteEventsDocument, {
    next: ({ data }) => {
      const event = data.noteEvents;
      events += 1;
      list.dataset.events = String(events);
      const li = document.createElement("li");
      li.dataset.kind = event.kind;
      li.dataset.noteId = event.noteId;
      li.textContent = `${event.kind.toLowerCase()}: ${event.note?.title ?? event.noteId}`;
      list.prepend(li);
    },
    error: (error) => {
      list.dataset.state = "stopped";
      list.dataset.reason = error instanceof HoldfastClientError ? (error.reason ?? error.code) : "error";
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = `Feed stopped (${list.dataset.reason}).`;
      list.prepend(li);
    },
    complete: () => {
      list.dataset.state = "stopped";
    },
  });
  return {
    stop() {
      stop();
      if (list.dataset.state === "live") list.dataset.state = "stopped";
    },
  };
}
