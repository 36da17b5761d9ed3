import { browserWebAuthn } from "./browser-webauthn.js";
import {
  createHoldfastClient as createClient,
  type HoldfastClient,
  type HoldfastClientOptions,
} from "./create-holdfast-client.js";
import { createIndexedDbDpopKeyStore } from "./indexeddb-dpop-key-store.js";
import { createWebLocksRefreshLock } from "./web-locks-refresh-lock.js";

// The browser bundle's entry: the same client with browser defaults. The DPoP key goes to IndexedDB
// (a reload keeps the session's key), and refreshes are shared between tabs (Web Locks + BroadcastChannel).

export * from "./index.js";
export {
  createIndexedDbDpopKeyStore,
  type IndexedDbDpopKeyStoreOptions,
} from "./indexeddb-dpop-key-store.js";
export {
  createWebLocksRefreshLock,
  type LockManagerLike,
  type WebLocksRefreshLockOptions,
} from "./web-locks-refresh-lock.js";

/**
 * `createHoldfastClient` with `keyStore` defaulting to IndexedDB, `lock` to Web Locks and `webauthn`
 * to the browser's (through @simplewebauthn/browser).
 */
export function createHoldfastClient(options: HoldfastClientOptions): HoldfastClient {
  const keyStore =
    options.keyStore ?? (typeof globalThis.indexedDB === "undefined" ? null : createIndexedDbDpopKeyStore());
  return createClient({
    ...options,
    ...(keyStore ? { keyStore } : {}),
    lock: options.lock ?? createWebLocksRefreshLock(),
    webauthn: options.webauthn ?? browserWebAuthn,
  });
}
