import "./monaco-workers.js";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { createHoldfastClient } from "../browser.js";
import { ideFetcher } from "./ide-fetcher.js";
import { mountSessionBar, type SessionBar } from "./session-bar.js";

// Holdfast's IDE at GET /graphql: GraphiQL 5 (bundled from npm, Monaco's workers served from this
// origin) whose every operation goes through the SDK's browser client, signed with the page's key.

const DEFAULT_QUERY = `# Sign in above (or register), then run Me.
# Untick "sign with this page's key" to send the same operation with no credential.
query Me {
  me { id email }
}
`;

const endpoint = new URL("/graphql", location.href).href;
let bar: SessionBar | null = null;

const client = createHoldfastClient({
  endpoint,
  onSessionLost: (reason) => bar?.show("session-lost", `Session lost (${reason}). Sign in again.`),
  onLogout: ({ source }) =>
    bar?.show("signed-out", source === "other_holder" ? "Signed out in another tab." : "Signed out."),
});
bar = mountSessionBar(client);
const session = bar;

const fetcher = ideFetcher({
  client,
  endpoint,
  signed: () => session.signed(),
  onStream: (event) => session.stream(event),
});

// `?query=` opens the IDE with that operation, as GraphiQL links always have.
const initialQuery = new URLSearchParams(location.search).get("query") ?? undefined;

createRoot(document.getElementById("graphiql")!).render(
  createElement(GraphiQL, {
    fetcher,
    plugins: [explorerPlugin()],
    defaultQuery: DEFAULT_QUERY,
    ...(initialQuery ? { initialQuery } : {}),
    // Headers are the SDK's business: a header typed here could only add a second credential.
    isHeadersEditorEnabled: false,
    shouldPersistHeaders: false,
  }),
);
