/**
 * Where the client keeps its DPoP key pair. Implementations store the CryptoKey objects themselves
 * (structured clone), never key material: the private key is non-extractable.
 */
export interface DpopKeyStore {
  get(): Promise<CryptoKeyPair | null>;
  /**
   * Stores `keyPair` unless a pair is already stored, and returns the stored one. Atomic, so two tabs
   * that start at once end up with one key, and a token bound by one tab works in the other.
   */
  setIfAbsent(keyPair: CryptoKeyPair): Promise<CryptoKeyPair>;
  clear(): Promise<void>;
}

/** The Node default: the key lives as long as the process (or as long as you keep the store). */
export function createMemoryDpopKeyStore(): DpopKeyStore {
  let stored: CryptoKeyPair | null = null;
  return Object.freeze({
    async get() {
      return stored;
    },
    async setIfAbsent(keyPair: CryptoKeyPair) {
      stored ??= keyPair;
      return stored;
    },
    async clear() {
      stored = null;
    },
  });
}
