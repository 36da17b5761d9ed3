export { DpopNonces } from "./dpop-nonces.js";
export type { ExpectedHtu, ExpectedHtuOptions } from "./expected-htu.js";
export { expectedHtu, loopbackOrigins } from "./expected-htu.js";
export type { DpopCheck } from "./invalid-dpop-proof-error.js";
export { InvalidDpopProofError } from "./invalid-dpop-proof-error.js";
export type { MemoryReplayStoreOptions, RedisReplayStoreOptions, ReplayStore } from "./replay-store.js";
export { MemoryReplayStore, RedisReplayStore } from "./replay-store.js";
export type {
  DpopAlgorithm,
  VerifiedDpopProof,
  VerifyDpopProofDeps,
  VerifyDpopProofInput,
} from "./verify-dpop-proof.js";
export {
  accessTokenHash,
  DEFAULT_DPOP_ALGORITHMS,
  MAX_DPOP_PROOF_LENGTH,
  verifyDpopProof,
} from "./verify-dpop-proof.js";
