import { type PasskeyInfo, typedDocument } from "../../browser.js";
import { button, clockTime, el, registerPanel } from "../console.js";

// Passkeys: sign in without a password, and account actions that ask for a recent sign-in (step-up).

const ChangePasswordDocument = typedDocument<{ changePassword: boolean }, { current: string; next: string }>(
  "ChangePassword",
  "mutation ChangePassword($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }",
);

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
    "Adding a passkey or changing the password needs a recent sign-in: after a few minutes the console asks you to confirm it's you, then retries.",
  readmeSection: "Step-up authentication",
  order: 35,
  mount(body, context) {
    const list = el("ul", { id: "passkey-list" });
    const name = el("input", { id: "passkey-name" });
    name.placeholder = "Name (e.g. this laptop)";
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

    function row(passkey: PasskeyInfo): HTMLLIElement {
      const item = el(
        "li",
        {},
        `${passkey.name} — added ${clockTime(passkey.createdAt)}, ${passkey.backedUp ? "synced" : "this device only"}` +
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
      el("div", { className: "actions" }, name),
      button(
        "Add a passkey",
        () => {
          void context.attempt("Adding a passkey", async () => {
            await context.client.addPasskey(name.value.trim() || "Passkey");
            name.value = "";
            await showList();
          });
        },
        "passkey-add",
      ),
      el("h3", {}, "Change password"),
      el("label", {}, "Current ", current),
      el("label", {}, "New ", next),
      button(
        "Change password",
        () => {
          outcome.dataset.outcome = "pending";
          void context.attempt("Changing the password", async () => {
            try {
              await context.client.request(ChangePasswordDocument, {
                current: current.value,
                next: next.value,
              });
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
