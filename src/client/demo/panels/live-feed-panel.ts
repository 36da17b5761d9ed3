import { el, registerPanel } from "../console.js";
import { type LiveFeed, mountLiveFeed } from "../live-feed.js";

// Live data that obeys logout: a noteEvents subscription that stops when the session ends.

registerPanel({
  id: "live-feed",
  title: "Live notes feed",
  explain:
    "A GraphQL subscription over WebSocket: notes appear as anyone writes them, and the feed stops the moment this session is logged out or revoked, here or in another tab.",
  readmeSection: "Subscriptions: live data that obeys logout",
  order: 55,
  mount(body, context) {
    const list = el("ul", { id: "live-feed" });
    list.dataset.state = "idle";
    body.append(list);
    let feed: LiveFeed | null = null;
    return {
      onSignedIn() {
        if (!feed || list.dataset.state !== "live") feed = mountLiveFeed(context.client, list);
      },
      onSignedOut() {
        feed?.stop();
        feed = null;
      },
    };
  },
});
