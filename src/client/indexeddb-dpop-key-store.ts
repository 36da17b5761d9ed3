import type { DpopKeyStore } from "./dpop-key-store.js";

export interface IndexedDbDpopKeyStoreOptions {
  /** Default `holdfast`. */
  readonly databaseName?: string;
  /** Default the global `indexedDB`. */
  readonly indexedDB?: IDBFactory;
}

const STORE = "dpop-keys";
const KEY = "current";

/**
 * The browser default: the CryptoKeyPair itself goes into IndexedDB (structured clone keeps it
 * non-extractable), so a reload keeps the key the session's tokens are bound to. No key material is
 * ever readable by script, from here or anywhere.
 */
export function createIndexedDbDpopKeyStore(options: IndexedDbDpopKeyStoreOptions = {}): DpopKeyStore {
  const databaseName = options.databaseName ?? "holdfast";
  const factory = options.indexedDB ?? globalThis.indexedDB;
  let database: Promise<IDBDatabase> | null = null;

  const open = (): Promise<IDBDatabase> => {
    database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(databaseName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab deleting or upgrading the database must not be blocked by us.
        db.onversionchange = () => {
          db.close();
          database = null;
        };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB open blocked"));
    }).catch((error: unknown) => {
      database = null;
      throw error;
    });
    return database;
  };

  const transact = async <T>(
    mode: IDBTransactionMode,
    work: (store: IDBObjectStore, finish: (value: T) => void) => void,
  ): Promise<T> => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let result: T;
      work(tx.objectStore(STORE), (value) => {
        result = value;
      });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  };

  return Object.freeze({
    get(): Promise<CryptoKeyPair | null> {
      return transact<CryptoKeyPair | null>("readonly", (store, finish) => {
        const request = store.get(KEY);
        request.onsuccess = () => finish(asKeyPair(request.result));
      });
    },
    setIfAbsent(keyPair: CryptoKeyPair): Promise<CryptoKeyPair> {
      // Read and write in one readwrite transaction: IndexedDB runs those one at a time per store, so
      // of two tabs racing, the second sees the first one's key.
      return transact<CryptoKeyPair>("readwrite", (store, finish) => {
        const request = store.get(KEY);
        request.onsuccess = () => {
          const existing = asKeyPair(request.result);
          if (existing) return finish(existing);
          store.put({ publicKey: keyPair.publicKey, privateKey: keyPair.privateKey }, KEY);
          finish(keyPair);
        };
      });
    },
    clear(): Promise<void> {
      return transact<void>("readwrite", (store, finish) => {
        store.delete(KEY);
        finish(undefined);
      });
    },
  });
}

function asKeyPair(value: unknown): CryptoKeyPair | null {
  if (typeof value !== "object" || value === null) return null;
  const { publicKey, privateKey } = value as Partial<CryptoKeyPair>;
  return publicKey && privateKey ? { publicKey, privateKey } : null;
}
