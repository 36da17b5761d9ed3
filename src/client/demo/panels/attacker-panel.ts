import { button, type ConsoleContext, clockTime, el, fingerprint, registerPanel } from "../console.js";
import { type RawAnswer, rawGraphql } from "../raw-graphql.js";

// The thief's view. The access token is copied through the demo-only tap (an application's page
// never sees it); the refresh token is out of reach in its HttpOnly cookie, except in native-app mode
// (/demo?delivery=body) where it travels in the response body and the console can copy it.

const ME_QUERY = "query Stolen { me { id displayName email } }";
const REFRESH_QUERY =
  "mutation StolenRefresh($refreshToken: String) { refresh(refreshToken: $refreshToken) { expiresAt session { id } } }";

interface Copied {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
  readonly copiedAt: Date;
}

registerPanel({
  id: "attacker",
  title: "The attacker's view",
  explain:
    "Copy the token as malware or a leaked log would, and replay it: without the key it is refused, and after logout it is refused even with the key.",
  readmeSection: "The problem (a copied token is useless elsewhere)",
  order: 20,
  // The copied token outlives the session on purpose: replaying it after logout is the point.
  signedInOnly: false,
  mount(body, context) {
    const log = attackerLog();
    const access = accessTokenTheft(context, log);
    const refresh = refreshTokenTheft(context, log);
    body.append(
      access.loot,
      access.cookieLine,
      el("div", { className: "actions" }, ...access.actions),
      el("h3", {}, "Refresh token"),
      refresh.refreshLine,
      el("div", { className: "actions" }, ...refresh.actions),
      el("h3", {}, "What the server said"),
      log.list,
    );
    return {
      onSignedOut(reason) {
        if (access.copied())
          log.note(`Session ended (${reason}); the attacker still holds the copy: replay it now.`);
      },
    };
  },
});

/** The timeline of what the server said to the attacker, newest first. */
interface AttackerLog {
  readonly list: HTMLOListElement;
  record(what: string, answer: RawAnswer): HTMLLIElement;
  note(text: string): void;
}

function attackerLog(): AttackerLog {
  const log = el("ol", { id: "attacker-log", className: "timeline" });
  const record = (what: string, answer: RawAnswer) => {
    const accepted = answer.refusal === null && answer.status === 200;
    const entry = el(
      "li",
      { className: accepted ? "accepted" : "refused" },
      el("time", {}, clockTime(new Date())),
      ` ${what}: `,
      el(
        "strong",
        {},
        accepted ? "accepted" : `refused — HTTP ${answer.status} ${answer.refusal ?? ""}`.trim(),
      ),
    );
    entry.dataset.outcome = accepted ? "accepted" : "refused";
    entry.dataset.refusal = answer.refusal ?? "";
    log.prepend(entry);
    return entry;
  };
  const note = (text: string) => {
    const entry = el("li", { className: "note" }, el("time", {}, clockTime(new Date())), ` ${text}`);
    entry.dataset.outcome = "note";
    log.prepend(entry);
  };
  return { list: log, record, note };
}

/** Copying the access token, and replaying it from elsewhere (no key) and from this page (its key). */
function accessTokenTheft(context: ConsoleContext, { record, note }: AttackerLog) {
  let copied: Copied | null = null;
  const loot = el("p", { id: "attacker-loot" }, "Nothing copied yet.");
  const cookieLine = el("p", { id: "attacker-cookie" });

  const copy = button(
    "Copy the access token",
    () => {
      const token = context.token();
      // What script in the page can reach of the refresh token: document.cookie lacks HttpOnly cookies.
      const cookies = document.cookie;
      cookieLine.textContent = `Refresh token: document.cookie is ${cookies ? `"${cookies}"` : "empty"}: the refresh cookie is HttpOnly, out of reach of script.`;
      if (!token) {
        loot.textContent = "No token to copy: sign in first.";
        return;
      }
      copied = { accessToken: token.accessToken, tokenType: token.tokenType, copiedAt: new Date() };
      loot.dataset.copied = "true";
      loot.textContent = `Copied a ${token.tokenType} access token at ${clockTime(copied.copiedAt)}: ${fingerprint(
        token.accessToken,
      )}.`;
    },
    "attacker-copy",
  );

  const withoutKey = button(
    "Replay it without the key",
    () => {
      void context.attempt("The attacker's request", async () => {
        if (!copied) return note("Copy a token first.");
        // The thief elsewhere: the token, no proof (both schemes a thief might try).
        record(
          "copied token as DPoP, no proof",
          await rawGraphql({
            endpoint: context.endpoint,
            query: ME_QUERY,
            token: { scheme: "DPoP", value: copied.accessToken },
          }),
        );
        record(
          "copied token as Bearer",
          await rawGraphql({
            endpoint: context.endpoint,
            query: ME_QUERY,
            token: { scheme: "Bearer", value: copied.accessToken },
          }),
        );
      });
    },
    "attacker-without-key",
  );

  const withKey = button(
    "Replay it from inside this page (with the key)",
    () => {
      void context.attempt("The attacker's request", async () => {
        if (!copied) return note("Copy a token first.");
        // Script injected into this page can use the non-extractable key while it runs (not carry it away).
        record(
          "copied token with a proof from this page's key",
          await rawGraphql({
            endpoint: context.endpoint,
            query: ME_QUERY,
            token: { scheme: copied.tokenType, value: copied.accessToken },
            proofWithPageKey: copied.tokenType === "DPoP",
          }),
        );
      });
    },
    "attacker-with-key",
  );

  return { loot, cookieLine, actions: [copy, withoutKey, withKey], copied: () => copied !== null };
}

/** Copying the refresh token (native-app mode only) and replaying it after rotation. */
function refreshTokenTheft(context: ConsoleContext, { record, note }: AttackerLog) {
  let copiedRefresh: string | null = null;
  const refreshLine = el("p", { id: "attacker-refresh-loot" });
  const copyRefresh = button(
    "Copy the refresh token",
    () => {
      void context.attempt("Copying the refresh token", async () => {
        copiedRefresh = await context.refreshTokenCopy();
        refreshLine.dataset.copied = String(copiedRefresh !== null);
        refreshLine.textContent = copiedRefresh
          ? `Copied the refresh token (native-app mode): ${fingerprint(copiedRefresh)}. Let it rotate twice (Refresh now, twice), wait out the grace interval, then replay it. After one rotation the copy's successor is still unused, and a replay signed with the session's own key is taken for the owner retrying a lost answer.`
          : "Cannot: in a browser the refresh token is in an HttpOnly cookie. Open /demo?delivery=body (native-app mode) to hand the attacker a copy.";
      });
    },
    "attacker-copy-refresh",
  );

  const replayRefresh = button(
    "Replay the copied refresh token",
    () => {
      void context.attempt("The attacker's refresh", async () => {
        if (!copiedRefresh) return note("Copy a refresh token first (native-app mode).");
        const answer = await rawGraphql({
          endpoint: context.endpoint,
          query: REFRESH_QUERY,
          variables: { refreshToken: copiedRefresh },
          proofWithPageKey: true,
        });
        record("copied refresh token", answer);
        if (answer.refusal === "UNAUTHENTICATED/refresh_token_reused") {
          // The server has ended the whole family; the real client finds out on its next request.
          await context.reload().catch(() => undefined);
          context.signedOut(
            "session-lost",
            "Signed out: a rotated refresh token was replayed (refresh_token_reused), so the server ended the whole session.",
          );
        } else if (answer.refusal === null) {
          note(
            "The copy was still current, within the grace interval, or its successor was still unused (a retry signed with the session's own key gets that successor back): the attacker now holds the live token.",
          );
        }
      });
    },
    "attacker-replay-refresh",
  );

  return { refreshLine, actions: [copyRefresh, replayRefresh] };
}
