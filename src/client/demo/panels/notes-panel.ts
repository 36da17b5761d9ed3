import { CreateNoteDocument } from "../../browser.js";
import { el, registerPanel } from "../console.js";

// The demo domain: the user's notes, read and written through the SDK with the bound token.

registerPanel({
  id: "notes",
  title: "Notes",
  explain:
    "Ordinary API calls: every request carries the token and a fresh DPoP proof; you never see either.",
  readmeSection: "Client SDK and demo",
  order: 50,
  mount(body, context) {
    const list = el("ul", { id: "notes" });
    const form = el("form", { id: "note-form" });
    const title = el("input");
    title.name = "title";
    title.required = true;
    title.maxLength = 200;
    const text = el("textarea");
    text.name = "body";
    text.rows = 2;
    text.maxLength = 10_000;
    form.append(
      el("label", {}, "Title ", title),
      el("label", {}, "Body ", text),
      el("button", { type: "submit" }, "Add note"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void context.attempt("Adding the note", async () => {
        await context.client.request(CreateNoteDocument, { input: { title: title.value, body: text.value } });
        form.reset();
        await context.reload();
      });
    });
    body.append(list, form);
    return {
      onSignedIn(view) {
        list.replaceChildren(
          ...(view.notes.length === 0
            ? [el("li", {}, "No notes yet.")]
            : view.notes.map((note) => {
                const li = el(
                  "li",
                  {},
                  note.title,
                  el("small", { className: "muted" }, ` ${note.body ?? ""}`),
                );
                li.dataset.noteId = note.id;
                return li;
              })),
        );
      },
      onSignedOut() {
        list.replaceChildren();
      },
    };
  },
});
