// holdfast/resource-server: verify Holdfast access tokens in your other services, and honour
// Holdfast's revocations there. Depends on jose; ioredis only when the Redis feed is used.
export {
  createResourceServerVerifier,
  type ProtectedRequest,
  type ResourceServerVerifier,
  type ResourceServerVerifierOptions,
  type VerifiedAccess,
} from "./create-resource-server-verifier.js";
export type { RedisCommandsLike } from "./proof-replay-store.js";
export { ResourceServerError, type ResourceServerErrorReason } from "./resource-server-error.js";
export {
  type RedisSubscriberLike,
  type RevocationFeedOptions,
  SESSION_REVOKED_EVENT,
} from "./revocation-state.js";
