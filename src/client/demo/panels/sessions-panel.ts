import { type SessionFields, typedDocument } from "../../browser.js";
import { button, clockTime, el, registerPanel } from "../console.js";

/** How far back "recent passkeys" reach: shown here, and removed by "Log out everywhere" on request. */
const RECENT_PASSKEY_DAYS = 7;

// Every live session of the user (each login is one family of rotating refresh tokens), with the
// controls that end them before their tokens expire.

const RevokeSessionDocument = typedDocument<{ revokeSession: boolean }, { id: string }>(
  "RevokeSession",
  "mutation RevokeSession($id: ID!) { revokeSession(id: $id) }",
);

/** A short name for a User-Agent string: browser and platform, enough to tell sessions apart. */
function device(userAgent: string | null): string {
  if (!userAgent) return "unknown device";
  const browser = /(HeadlessChrome|Firefox|Edg|Chrome|Safari|curl|node)[/ ]?([\d.]*)/.exec(userAgent);
  const platform = /\(([^;)]+)/.exec(userAgent)?.[1];
  return [
    browser ? `${browser[1]} ${browser[2]?.split(".")[0] ?? ""}`.trim() : userAgent.slice(0, 40),
    platform,
  ]
    .filter(Boolean)
    .join(" on ");
}

registerPanel({
  id: "sessions",
  title: "Your sessions",
  explain:
    "Each sign-in is a session; revoking one refuses its tokens on every instance within a second, long before they expire.",
  readmeSection: "The problem (logout bites before expiry)",
  order: 30,
  mount(body, context) {
    const list = el("ul", { id: "sessions", className: "sessions" });
    // A new passkey is a new way into the account: a security event the owner should see here.
    const recent = el("ul", { id: "recent-passkeys", className: "sessions" });
    const removeRecent = el("input", { id: "logout-remove-recent-passkeys", type: "checkbox" });
    const everywhere = button(
      "Log out everywhere",
      () => {
        void context.attempt("Logging out everywhere", async () => {
          const confirmed = await context.client.logoutEverywhere(
            removeRecent.checked ? { removePasskeysAddedWithinDays: RECENT_PASSKEY_DAYS } : {},
          );
          context.signedOut(
            "signed-out",
            confirmed
              ? "Signed out everywhere: every session ended."
              : "Signed out here; the server did not confirm.",
          );
        });
      },
      "logout-everywhere",
    );
    body.append(
      list,
      el("h3", {}, `Passkeys added in the last ${RECENT_PASSKEY_DAYS} days`),
      recent,
      el("label", {}, removeRecent, " and remove these passkeys"),
      everywhere,
    );

    async function showRecentPasskeys(): Promise<void> {
      const since = Date.now() - RECENT_PASSKEY_DAYS * 86_400_000;
      const added = (await context.client.passkeys()).filter((p) => p.createdAt.getTime() >= since);
      recent.replaceChildren(
        ...added.map((p) =>
          el("li", {}, el("strong", {}, "New passkey"), ` "${p.name}" added ${clockTime(p.createdAt)}`),
        ),
      );
      recent.dataset.count = String(added.length);
    }

    const revoke = (session: SessionFields) =>
      context.attempt("Revoking the session", async () => {
        await context.client.request(RevokeSessionDocument, { id: session.id });
        await context.reload();
      });

    return {
      onSignedIn(view) {
        void context.attempt("Listing recent passkeys", showRecentPasskeys);
        list.replaceChildren(
          ...view.sessions.map((session) => {
            const li = el(
              "li",
              {},
              el("strong", {}, session.current ? "This tab's session" : "Session"),
              ` — ${device(session.userAgent)}`,
              el(
                "small",
                { className: "muted" },
                ` created ${new Date(session.createdAt).toLocaleString()}, last used ${new Date(
                  session.lastUsedAt,
                ).toLocaleTimeString()}, ${session.boundToKey ? "bound to a DPoP key" : "not bound (Bearer)"}`,
              ),
            );
            li.dataset.sessionId = session.id;
            li.dataset.current = String(session.current);
            li.dataset.bound = String(session.boundToKey);
            if (!session.current)
              li.append(
                " ",
                button("Revoke", () => void revoke(session)),
              );
            return li;
          }),
        );
      },
      onSignedOut() {
        list.replaceChildren();
        recent.replaceChildren();
        removeRecent.checked = false;
      },
    };
  },
});
