// holdfast/testing: run your resolvers' operations as a viewer with given scopes, as anonymous, or
// with a revoked session, without minting tokens. See the README ("Testing resolvers as a viewer").
export {
  createTestingServer,
  type OperationResult,
  type TestingServer,
  type TestingServerOptions,
  type TestViewer,
  type ViewerSpec,
} from "./run-as-viewer.js";
