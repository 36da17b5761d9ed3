import { typedDocument } from "../../browser.js";
import { button, clockTime, el, registerPanel } from "../console.js";
import { decodeJwt, rawGraphql } from "../raw-graphql.js";

// A widget gets a token with only the scopes its job needs, and no longer life than yours.

const NarrowTokenDocument = typedDocument<
  { narrowToken: { accessToken: string; tokenType: string; expiresAt: string; scopes: string[] } },
  { scopes: string[]; expiresInSeconds?: number }
>(
  "NarrowToken",
  "mutation NarrowToken($scopes: [String!]!, $expiresInSeconds: Int) { narrowToken(scopes: $scopes, expiresInSeconds: $expiresInSeconds) { accessToken tokenType expiresAt scopes } }",
);

/** What the widget tries to read, one field per line of the result table. */
const WIDGET_QUERY = `query Widget {
  me { displayName notes(first: 3) { edges { node { title } } } }
  sessions { id }
}`;
const WIDGET_FIELDS: readonly { path: string; label: string }[] = [
  { path: "me.displayName", label: "me.displayName (public)" },
  { path: "me.notes", label: "me.notes (notes:read)" },
  { path: "sessions", label: "sessions (sessions:read)" },
];

registerPanel({
  id: "narrowing",
  title: "Narrowing: a token for a widget",
  explain:
    "narrowToken trades your token for one with fewer scopes and a shorter life, still bound to your key; the widget reads only what those scopes allow.",
  readmeSection: "The problem (a token carries only what the job needs)",
  order: 40,
  mount(body, context) {
    const choices = el("fieldset", { id: "narrow-scopes" }, el("legend", {}, "Scopes for the widget"));
    const result = el("table", { id: "narrow-result" });
    const summary = el("p", { id: "narrow-summary" });
    const run = button(
      "Create the widget's token and read",
      () => {
        void context.attempt("Narrowing", async () => {
          const scopes = [...choices.querySelectorAll<HTMLInputElement>("input:checked")].map((c) => c.value);
          const {
            data: { narrowToken },
          } = await context.client.request(NarrowTokenDocument, {
            scopes,
            expiresInSeconds: 60,
          });
          const claims = decodeJwt(narrowToken.accessToken).claims;
          summary.textContent = `Widget token: scopes [${narrowToken.scopes.join(", ") || "none"}], valid until ${clockTime(
            new Date(narrowToken.expiresAt),
          )}, ${claims.cnf ? "bound to the same key" : "unbound"}.`;
          const answer = await rawGraphql({
            endpoint: context.endpoint,
            query: WIDGET_QUERY,
            token: {
              scheme: narrowToken.tokenType === "DPoP" ? "DPoP" : "Bearer",
              value: narrowToken.accessToken,
            },
            proofWithPageKey: narrowToken.tokenType === "DPoP",
          });
          result.replaceChildren(
            el("tr", {}, el("th", {}, "field"), el("th", {}, "widget can read it?")),
            ...WIDGET_FIELDS.map(({ path, label }) => {
              const error = answer.errors.find((e) => (e.path ?? []).join(".").startsWith(path));
              const row = el(
                "tr",
                {},
                el("td", {}, label),
                el("td", {}, error ? `no — ${error.code}${error.reason ? ` (${error.reason})` : ""}` : "yes"),
              );
              row.dataset.field = path;
              row.dataset.allowed = String(!error);
              return row;
            }),
          );
        });
      },
      "narrow-run",
    );
    body.append(choices, run, summary, result);

    return {
      onSignedIn() {
        const scopes = context.token()?.scopes ?? [];
        const checked = new Set(
          [...choices.querySelectorAll<HTMLInputElement>("input")]
            .filter((c) => c.checked)
            .map((c) => c.value),
        );
        const fresh = choices.querySelectorAll("input").length === 0;
        choices.replaceChildren(
          el("legend", {}, "Scopes for the widget"),
          ...scopes.map((scope) => {
            const box = el("input", { type: "checkbox" });
            box.value = scope;
            box.checked = fresh ? scope === "notes:read" : checked.has(scope);
            return el("label", { className: "inline" }, box, ` ${scope}`);
          }),
        );
      },
      onSignedOut() {
        choices.replaceChildren(el("legend", {}, "Scopes for the widget"));
        result.replaceChildren();
        summary.textContent = "";
      },
    };
  },
});
