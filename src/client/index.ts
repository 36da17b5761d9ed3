// The package entry (Node, native, and bundlers that pick their own defaults). Browser defaults
// (IndexedDB key store, Web Locks + BroadcastChannel) are in ./browser.js.
export { backoffDelayMs, defaultRetry, type RetryOptions } from "./backoff.js";
export {
  type ClientClock,
  type ClientState,
  type ClientTimers,
  createHoldfastClient,
  type HoldfastClient,
  type HoldfastClientOptions,
  type LoginCredentials,
  type RegisterDetails,
  type RequestResult,
  type SessionInfo,
  type SessionLostReason,
} from "./create-holdfast-client.js";
export { createMemoryDpopKeyStore, type DpopKeyStore } from "./dpop-key-store.js";
export { type DpopAlgorithm, generateDpopKeyPair } from "./dpop-proof.js";
export {
  type GraphQLErrorLike,
  HoldfastClientError,
  type HoldfastClientErrorCode,
} from "./holdfast-client-error.js";
export { type NoteEventKind, NoteEventsDocument, type NoteEventsSubscription } from "./live-operations.js";
export type {
  LiveOptions,
  SubscriptionEvent,
  SubscriptionHandlers,
  WebSocketConstructor,
} from "./live-subscriptions.js";
export {
  CreateNoteDocument,
  type CreateNoteMutation,
  type CreateNoteMutationVariables,
  LogoutDocument,
  LogoutEverywhereDocument,
  type LogoutEverywhereMutation,
  type LogoutMutation,
  MeDocument,
  type MeQuery,
  type NoteFields,
  NotesDocument,
  type NotesQuery,
  type NotesQueryVariables,
  type SessionFields,
  SessionsDocument,
  type SessionsQuery,
  type UserFields,
} from "./operations.js";
export type { PasskeyInfo, StepUpAnswer, StepUpChallenge, WebAuthnCeremonies } from "./passkey-types.js";
export {
  createInProcessRefreshLock,
  type RefreshLock,
  type SessionChannel,
  type SessionMessage,
} from "./refresh-lock.js";
export { defaultRefreshAhead, type RefreshAheadOptions } from "./refresh-schedule.js";
export { createMemoryRefreshTokenStore, type RefreshTokenStore } from "./refresh-token-store.js";
export { type ResultOf, type TypedDocument, typedDocument, type VariablesOf } from "./typed-document.js";
