// holdfast/testing: run your resolvers' operations as a viewer with given scopes, as anonymous, or
// with a revoked session, without minting tokens; and a subscription as a viewer, without a server.
// See the README ("Testing resolvers as a viewer").
export {
  createTestingServer,
  type OperationResult,
  type TestingServer,
  type TestingServerOptions,
  type TestViewer,
  type ViewerSpec,
} from "./run-as-viewer.js";
export {
  subscribeAsViewer,
  type TestViewer as SubscriptionViewer,
  type ViewerSubscription,
} from "./subscribe-as-viewer.js";
