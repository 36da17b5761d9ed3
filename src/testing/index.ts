// The package's ./testing entry: run GraphQL as a viewer with given scopes, without a server.
export { subscribeAsViewer, type TestViewer, type ViewerSubscription } from "./subscribe-as-viewer.js";
