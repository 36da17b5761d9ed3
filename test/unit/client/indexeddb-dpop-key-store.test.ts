import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { createIndexedDbDpopKeyStore } from "../../../src/client/browser.js";
import { generateDpopKeyPair } from "../../../src/client/index.js";

describe("IndexedDB DPoP key store", () => {
  it("keeps the key pair across a reload (a second store on the same database)", async () => {
    const indexedDB = new IDBFactory();
    const pair = await generateDpopKeyPair();
    await createIndexedDbDpopKeyStore({ indexedDB }).setIfAbsent(pair);

    const reloaded = await createIndexedDbDpopKeyStore({ indexedDB }).get();
    expect(reloaded).not.toBeNull();
    const data = new TextEncoder().encode("proof");
    const params = { name: "ECDSA", hash: "SHA-256" };
    const signature = await crypto.subtle.sign(params, reloaded!.privateKey, data);
    expect(await crypto.subtle.verify(params, pair.publicKey, signature, data)).toBe(true);
  });

  it("stores the key still non-extractable", async () => {
    const indexedDB = new IDBFactory();
    const store = createIndexedDbDpopKeyStore({ indexedDB });
    await store.setIfAbsent(await generateDpopKeyPair());
    const stored = await createIndexedDbDpopKeyStore({ indexedDB }).get();
    expect(stored?.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("jwk", stored!.privateKey)).rejects.toThrow();
  });

  it("setIfAbsent keeps the first key when two tabs race", async () => {
    const indexedDB = new IDBFactory();
    const [a, b] = [await generateDpopKeyPair(), await generateDpopKeyPair()];
    const [kept1, kept2] = await Promise.all([
      createIndexedDbDpopKeyStore({ indexedDB }).setIfAbsent(a),
      createIndexedDbDpopKeyStore({ indexedDB }).setIfAbsent(b),
    ]);
    const jwk = (k: CryptoKeyPair) => crypto.subtle.exportKey("jwk", k.publicKey).then((j) => j.x);
    expect(await jwk(kept1)).toBe(await jwk(kept2));
  });

  it("clear forgets the key; get on an empty store is null", async () => {
    const store = createIndexedDbDpopKeyStore({ indexedDB: new IDBFactory() });
    expect(await store.get()).toBeNull();
    await store.setIfAbsent(await generateDpopKeyPair());
    await store.clear();
    expect(await store.get()).toBeNull();
  });
});
