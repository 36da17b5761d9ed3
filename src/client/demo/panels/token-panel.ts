import type { DemoTokenEvent } from "../../demo-token-tap.js";
import { button, clockTime, el, registerPanel } from "../console.js";
import { decodeJwt } from "../raw-graphql.js";

// The access token as the server issued it: decoded, with a live countdown and a timeline of every
// token this tab received (sign-in, silent refreshes, refreshes done by another tab).

const VIA_TEXT: Record<DemoTokenEvent["via"], string> = {
  sign_in: "signed in (or page loaded): first token in this tab",
  refresh: "silent refresh: refresh token rotated, new access token",
  other_tab: "another tab refreshed: its new token was shared here",
};

registerPanel({
  id: "token",
  title: "Your access token",
  explain:
    "A short-lived JWT, bound to this browser's non-extractable key (cnf.jkt), renewed silently before it expires.",
  readmeSection: "The problem",
  order: 10,
  mount(body, context) {
    const countdown = el("p", { id: "token-countdown", className: "countdown" }, "No token.");
    const binding = el("p", { id: "token-binding" });
    const scopes = el("ul", { id: "token-scopes", className: "chips" });
    const header = el("pre", { id: "token-header", className: "json" });
    const claims = el("pre", { id: "token-claims", className: "json" });
    const timeline = el("ol", { id: "token-timeline", className: "timeline" });
    const refreshNow = button(
      "Refresh now",
      () => {
        void context.attempt("Refreshing", async () => {
          await context.client.refresh();
        });
      },
      "token-refresh",
    );
    body.append(
      countdown,
      refreshNow,
      binding,
      el("h3", {}, "Scopes"),
      scopes,
      el("h3", {}, "Header"),
      header,
      el("h3", {}, "Claims"),
      claims,
      el("h3", {}, "Timeline"),
      timeline,
    );

    let expiresAt: Date | null = null;
    const tick = () => {
      if (!expiresAt) {
        countdown.textContent = "No token.";
        countdown.dataset.secondsLeft = "";
        return;
      }
      const left = Math.round((expiresAt.getTime() - Date.now()) / 1000);
      countdown.dataset.secondsLeft = String(left);
      countdown.textContent =
        left > 0
          ? `Expires in ${left} s (at ${clockTime(expiresAt)}). The next request after ~80% of its life refreshes it first.`
          : "Expired: the next request refreshes it first.";
    };
    setInterval(tick, 1000);

    const show = (event: DemoTokenEvent) => {
      expiresAt = event.expiresAt;
      const decoded = decodeJwt(event.accessToken);
      header.textContent = JSON.stringify(decoded.header, null, 2);
      claims.textContent = JSON.stringify(decoded.claims, null, 2);
      const cnf = decoded.claims.cnf as { jkt?: string } | undefined;
      binding.dataset.bound = String(Boolean(cnf?.jkt));
      binding.textContent = cnf?.jkt
        ? `Bound (token type ${event.tokenType}): usable only with proofs signed by the key whose thumbprint is ${cnf.jkt}.`
        : "Not bound (Bearer): whoever holds this token can use it until it expires.";
      scopes.replaceChildren(...event.scopes.map((s) => el("li", {}, s)));
      const entry = el(
        "li",
        {},
        el("time", {}, clockTime(new Date(event.receivedAtMs))),
        ` ${VIA_TEXT[event.via]}; valid until ${clockTime(event.expiresAt)}; jti ${String(decoded.claims.jti ?? "").slice(0, 8)}`,
      );
      entry.dataset.via = event.via;
      timeline.prepend(entry);
      tick();
    };
    const current = context.token();
    if (current) show(current);

    return {
      onToken: show,
      onSignedOut(reason) {
        expiresAt = null;
        binding.textContent = "";
        header.textContent = "";
        claims.textContent = "";
        scopes.replaceChildren();
        const entry = el("li", {}, el("time", {}, clockTime(new Date())), ` session ended: ${reason}`);
        entry.dataset.via = "ended";
        timeline.prepend(entry);
        tick();
      },
    };
  },
});
