import { type PasskeyInfo, typedDocument } from "../../browser.js";
import { button, clockTime, el, registerPanel } from "../console.js";

// Passkeys: sign in without a password, and account actions that ask for a recent sign-in (step-up).

const ChangePasswordDocument = typedDocument<
  { changePassword: boolean },
  { current: string; next: string; days?: number | null }
>(
  "ChangePassword",
  "mutation ChangePassword($current: String!, $next: String!, $days: Int) { changePassword(currentPassword: $current, newPassword: $next, removePasskeysAddedWithinDays: $days) }",
);

/** "Recent" passkeys, removable with a password change (the recovery from a planted one). */
const RECENT_PASSKEY_DAYS = 7;

registerPanel({
  id: "passkey-sign-in",
  title: "Sign in with a passkey",
  explain:
    "A passkey signs in without a password; it only works on this site, so a phishing page gets nothing.",
  readmeSection: "Passkeys",
  order: 5,
  signedInOnly: false,
  mount(body, context) {
    const result = el("p", { id: "passkey-sign-in-result" });
    body.append(
      button(
        "Sign in with a passkey",
        () => {
          void context.attempt("Passkey sign-in", async () => {
            const session = await context.client.signInWithPasskey();
            result.textContent = `Signed in as ${session.user.displayName} with a passkey.`;
            await context.reload();
          });
        },
        "passkey-sign-in",
      ),
      result,
    );
    return {
      onSignedOut() {
        result.textContent = "";
      },
    };
  },
});

registerPanel({
  id: "passkeys",
  title: "Passkeys and step-up",
  explain:
    "Adding a passkey needs your password (or an existing passkey) every time; it and changing the password also need a recent sign-in: after a few minutes the console asks you to confirm it's you, then retries.",
  readmeSection: "Step-up authentication",
  order: 35,
  mount(body, context) {
    const list = el("ul", { id: "passkey-list" });
    const name = el("input", { id: "passkey-name" });
    name.placeholder = "Name (e.g. this laptop)";
    // A copied token must not plant a passkey: adding one proves the password or an existing passkey.
    const proofPassword = el("input", { id: "passkey-password", type: "password" });
    proofPassword.placeholder = "Your password (or leave empty to confirm with a passkey)";
    proofPassword.autocomplete = "current-password";
    const removeRecent = el("input", { id: "password-remove-recent-passkeys", type: "checkbox" });
    const current = el("input", { id: "password-current", type: "password" });
    const next = el("input", { id: "password-new", type: "password" });
    current.autocomplete = "current-password";
    next.autocomplete = "new-password";
    const outcome = el("p", { id: "password-result" });

    async function showList(): Promise<void> {
      const passkeys = await context.client.passkeys();
      list.replaceChildren(...passkeys.map(row));
      list.dataset.count = String(passkeys.length);
    }

    const isRecent = (passkey: PasskeyInfo) =>
      passkey.createdAt.getTime() >= Date.now() - RECENT_PASSKEY_DAYS * 86_400_000;

    function row(passkey: PasskeyInfo): HTMLLIElement {
      const item = el(
        "li",
        {},
        `${passkey.name} — ${isRecent(passkey) ? "recently " : ""}added ${clockTime(passkey.createdAt)}, ${passkey.backedUp ? "synced" : "this device only"}` +
          `${passkey.lastUsedAt ? `, last used ${clockTime(passkey.lastUsedAt)}` : ""} `,
        button("Remove", () => {
          void context.attempt("Removing the passkey", async () => {
            await context.client.removePasskey(passkey.id);
            await showList();
          });
        }),
      );
      item.dataset.id = passkey.id;
      return item;
    }

    body.append(
      el("h3", {}, "Your passkeys"),
      list,
      el("div", { className: "actions" }, name, proofPassword),
      button(
        "Add a passkey",
        () => {
          void context.attempt("Adding a passkey", async () => {
            const proof = proofPassword.value
              ? { password: proofPassword.value }
              : ({ passkey: true } as const);
            await context.client.addPasskey({ name: name.value.trim() || "Passkey", proof });
            name.value = "";
            proofPassword.value = "";
            await showList();
          });
        },
        "passkey-add",
      ),
      el("h3", {}, "Change password"),
      el("label", {}, "Current ", current),
      el("label", {}, "New ", next),
      el("label", {}, removeRecent, ` and remove passkeys added in the last ${RECENT_PASSKEY_DAYS} days`),
      button(
        "Change password",
        () => {
          outcome.dataset.outcome = "pending";
          void context.attempt("Changing the password", async () => {
            try {
              await context.client.request(ChangePasswordDocument, {
                current: current.value,
                next: next.value,
                days: removeRecent.checked ? RECENT_PASSKEY_DAYS : null,
              });
              if (removeRecent.checked) await showList();
              outcome.dataset.outcome = "changed";
              outcome.textContent = "Password changed; every other session was ended.";
              current.value = "";
              next.value = "";
            } catch (error) {
              outcome.dataset.outcome = "refused";
              outcome.textContent = "Password not changed.";
              throw error;
            }
          });
        },
        "password-change",
      ),
      outcome,
    );
    return {
      onSignedIn() {
        void context.attempt("Listing passkeys", showList);
      },
      onSignedOut() {
        list.replaceChildren();
        outcome.textContent = "";
        delete outcome.dataset.outcome;
      },
    };
  },
});
