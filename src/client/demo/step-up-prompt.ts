import type { StepUpAnswer, StepUpChallenge } from "../browser.js";
import { button, el } from "./console.js";

// The demo's answer to the SDK's `onStepUpRequired` (RFC 9470 step-up): a small in-page prompt that
// asks for the password or a passkey. The SDK then re-authenticates this session and retries once.

let open: { resolve: (answer: StepUpAnswer | null) => void; box: HTMLElement } | null = null;

export function askForStepUp(challenge: StepUpChallenge): Promise<StepUpAnswer | null> {
  open?.resolve(null);
  return new Promise((resolve) => {
    const password = el("input", { id: "step-up-password", type: "password" });
    password.autocomplete = "current-password";
    const window =
      challenge.maxAge !== undefined ? ` within the last ${Math.round(challenge.maxAge / 60)} min` : "";
    const box = el(
      "section",
      { id: "step-up", className: "panel step-up" },
      el("h2", {}, "Confirm it's you"),
      el(
        "p",
        { className: "explain" },
        `This action needs a sign-in${window} (step-up, RFC 9470). A copied token cannot pass this.`,
      ),
      el("label", {}, "Password ", password),
    );
    box.setAttribute("role", "dialog");
    const finish = (answer: StepUpAnswer | null) => {
      box.remove();
      open = null;
      resolve(answer);
    };
    box.append(
      el(
        "div",
        { className: "actions" },
        button("Confirm with password", () => finish({ password: password.value }), "step-up-with-password"),
        button("Use a passkey", () => finish({ passkey: true }), "step-up-with-passkey"),
        button("Cancel", () => finish(null), "step-up-cancel"),
      ),
    );
    open = { resolve: finish, box };
    document.querySelector("main")?.prepend(box);
    password.focus();
  });
}
