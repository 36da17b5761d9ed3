import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import {
  type DemoBrowser,
  openDemoBrowser,
  registerThroughPage,
  reloadData,
  useChromiumAndDemo,
  waitForSettledState,
  withSignedInTab,
} from "./support/demo-harness.js";

const { browser, demo } = useChromiumAndDemo();

/**
 * Everything script in the page can read and keep: both Web Storage areas, document.cookie, every
 * value and key of every IndexedDB store, the DOM with the live values of its form fields, and
 * window.name. Values that JSON cannot show (CryptoKey, binary) are described, not dropped.
 */
function readableState(page: Page): Promise<{ text: string; indexedDbEntries: number; cryptoKeys: number }> {
  return page.evaluate(async () => {
    let cryptoKeys = 0;
    const describe = (value: unknown): unknown =>
      JSON.parse(
        JSON.stringify(value, (_key, v: unknown) => {
          if (v instanceof CryptoKey) {
            cryptoKeys += 1;
            return {
              cryptoKey: v.type,
              algorithm: v.algorithm,
              extractable: v.extractable,
              usages: v.usages,
            };
          }
          if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
            const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer);
            return { binary: new TextDecoder().decode(bytes) };
          }
          return v;
        }) ?? "null",
      );
    const storage = (area: Storage) =>
      Object.fromEntries(
        Array.from({ length: area.length }, (_, i) => area.key(i) ?? "").map((k) => [k, area.getItem(k)]),
      );

    const databases: Record<string, unknown> = {};
    let indexedDbEntries = 0;
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name as string);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const storeName of Array.from(db.objectStoreNames)) {
        const [keys, values] = await new Promise<[IDBValidKey[], unknown[]]>((resolve, reject) => {
          const store = db.transaction(storeName, "readonly").objectStore(storeName);
          const getKeys = store.getAllKeys();
          const getValues = store.getAll();
          getValues.onsuccess = () => resolve([getKeys.result, getValues.result]);
          getValues.onerror = () => reject(getValues.error);
        });
        indexedDbEntries += values.length;
        databases[`${info.name}/${storeName}`] = describe({ keys, values });
      }
      db.close();
    }
    const fields = Array.from(document.querySelectorAll("input, textarea")).map(
      (el) => (el as HTMLInputElement).value,
    );
    const text = JSON.stringify({
      localStorage: storage(localStorage),
      sessionStorage: storage(sessionStorage),
      cookie: document.cookie,
      indexedDB: databases,
      dom: document.documentElement.outerHTML,
      fields,
      windowName: window.name,
    });
    return { text, indexedDbEntries, cryptoKeys };
  });
}

/** A token, or its signature (the part that cannot be guessed), found anywhere in `text`. */
function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => {
    const signature = secret.split(".").at(-1) ?? secret;
    return text.includes(secret) || (signature.length >= 20 && text.includes(signature));
  });
}

describe("what script in the page can read after login", () => {
  it("holds no access token, no refresh token, and only a non-extractable DPoP key", async () => {
    await withSignedInTab(browser, demo, async (page, tab) => {
      // A reload (resume by refresh) and a refresh ahead of expiry, so several tokens have passed through.
      await page.reload();
      expect((await waitForSettledState(page, 1)).state).toBe("signed-in");
      await tab.warp(50_000);
      expect((await reloadData(page)).state).toBe("signed-in");
      await tab.log.settled();

      const accessTokens = tab.log.tokens();
      const refreshCookies = (await tab.context.cookies()).filter((c) => c.name === "__Host-holdfast_rt");
      expect(accessTokens.length).toBeGreaterThanOrEqual(3); // register, resume, refresh-ahead
      expect(refreshCookies).toHaveLength(1);
      expect(refreshCookies[0]).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: "Strict",
        path: "/",
      });
      const secrets = [...accessTokens, ...refreshCookies.map((c) => c.value)];

      const state = await readableState(page);
      expect(state.indexedDbEntries).toBe(1); // the key pair, and nothing else
      expect(state.cryptoKeys).toBe(2);
      expect(leaks(state.text, secrets)).toEqual([]);

      // The search finds a token where one is: the check above could have failed.
      const planted = accessTokens[0] as string;
      await page.evaluate((token) => sessionStorage.setItem("probe", token), planted);
      expect(leaks((await readableState(page)).text, secrets)).toEqual([planted]);
      await page.evaluate(() => sessionStorage.removeItem("probe"));
    });
  });

  it("keeps the DPoP private key in IndexedDB as a CryptoKey that reports extractable false and cannot be exported", async () => {
    await withSignedInTab(browser, demo, async (page) => {
      const key = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open("holdfast");
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
          const get = db.transaction("dpop-keys", "readonly").objectStore("dpop-keys").get("current");
          get.onsuccess = () => resolve(get.result as CryptoKeyPair);
          get.onerror = () => reject(get.error);
        });
        db.close();
        const exportOutcome = async (format: "jwk" | "pkcs8") => {
          try {
            await crypto.subtle.exportKey(format, pair.privateKey);
            return "exported";
          } catch (error) {
            return (error as DOMException).name;
          }
        };
        return {
          isCryptoKey: pair.privateKey instanceof CryptoKey,
          type: pair.privateKey.type,
          extractable: pair.privateKey.extractable,
          usages: pair.privateKey.usages,
          algorithm: pair.privateKey.algorithm.name,
          jwk: await exportOutcome("jwk"),
          pkcs8: await exportOutcome("pkcs8"),
        };
      });
      expect(key).toEqual({
        isCryptoKey: true,
        type: "private",
        extractable: false,
        usages: ["sign"],
        algorithm: "ECDSA",
        jwk: "InvalidAccessError",
        pkcs8: "InvalidAccessError",
      });
    });
  });
});

interface Answer {
  status: number;
  code: unknown;
  reason: unknown;
  data: Record<string, unknown> | null | undefined;
  wwwAuthenticate: string | null;
}

/** The attacker's side: plain Node fetch, straight at the server, with whatever was copied. */
async function replay(query: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${demo.directUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: { code?: string; reason?: string } }[];
  };
  return {
    status: response.status,
    code: body.errors?.[0]?.extensions?.code,
    reason: body.errors?.[0]?.extensions?.reason,
    data: body.data,
    wwwAuthenticate: response.headers.get("www-authenticate"),
  };
}

const ME = "query { me { id email } }";
const REFRESH = "mutation { refresh { accessToken tokenType } }";
const graphqlUrl = () => `${demo.config.server.publicUrl}/graphql`;

async function signedInTab(): Promise<{ tab: DemoBrowser; accessToken: string; proof: string }> {
  const tab = await openDemoBrowser(browser, demo);
  const page = await tab.openTab();
  await registerThroughPage(page);
  await tab.log.settled();
  // What an attacker reading the page's traffic (a devtools glance, a logging proxy) would copy.
  const me = tab.log.of("Me").at(-1);
  const accessToken = /^DPoP (.+)$/.exec(me?.authorization ?? "")?.[1];
  if (!accessToken || !me?.dpop) throw new Error("the page sent no DPoP-bound call");
  return { tab, accessToken, proof: me.dpop };
}

describe("tokens copied out of the browser", () => {
  it("an access token replayed from Node is refused without the page's key, however it is presented", async () => {
    const { tab, accessToken, proof } = await signedInTab();
    try {
      // The request itself is sound: anonymously, the same query is answered.
      expect(await replay(ME, {})).toMatchObject({ status: 200, data: { me: null } });

      const asBearer = await replay(ME, { authorization: `Bearer ${accessToken}` });
      expect(asBearer).toMatchObject({ status: 401, code: "UNAUTHENTICATED", reason: "dpop_required" });

      const withoutProof = await replay(ME, { authorization: `DPoP ${accessToken}` });
      expect(withoutProof).toMatchObject({ status: 401, code: "UNAUTHENTICATED", reason: "dpop_required" });
      expect(withoutProof.wwwAuthenticate).toMatch(/^DPoP /);

      // The page's own proof, copied with the token: already used (jti), so refused.
      const copiedProof = await replay(ME, { authorization: `DPoP ${accessToken}`, dpop: proof });
      expect(copiedProof).toMatchObject({
        status: 401,
        code: "UNAUTHENTICATED",
        reason: "invalid_dpop_proof",
      });

      // A fresh, well-formed proof from the attacker's own key: the token is bound to another one.
      const attackerKey = await createDpopKey("ES256");
      const ownProof = await createDpopProof(attackerKey, {
        htm: "POST",
        htu: graphqlUrl(),
        iat: demo.clock.now(),
        accessToken,
      });
      const withOwnKey = await replay(ME, { authorization: `DPoP ${accessToken}`, dpop: ownProof });
      expect(withOwnKey).toMatchObject({
        status: 401,
        code: "UNAUTHENTICATED",
        reason: "invalid_dpop_proof",
      });

      // Meanwhile the page, which holds the key, carries on.
      const page = tab.context.pages()[0];
      if (!page) throw new Error("the tab is gone");
      expect((await reloadData(page)).state).toBe("signed-in");
    } finally {
      await tab.close();
    }
  });

  it("the refresh cookie replayed from Node is refused without the page's key, and the page keeps its session", async () => {
    const { tab } = await signedInTab();
    try {
      const cookie = (await tab.context.cookies()).find((c) => c.name === "__Host-holdfast_rt");
      if (!cookie) throw new Error("no refresh cookie");
      const header = { cookie: `${cookie.name}=${cookie.value}` };

      const withoutKey = await replay(REFRESH, header);
      expect(withoutKey).toMatchObject({ code: "UNAUTHENTICATED", reason: "dpop_required", data: null });

      const attackerKey = await createDpopKey("ES256");
      const ownProof = await createDpopProof(attackerKey, {
        htm: "POST",
        htu: graphqlUrl(),
        iat: demo.clock.now(),
      });
      const withOwnKey = await replay(REFRESH, { ...header, dpop: ownProof });
      expect(withOwnKey).toMatchObject({ code: "UNAUTHENTICATED", reason: "invalid_dpop_proof", data: null });

      // Neither attempt rotated the token or ended the session: the page refreshes as before.
      expect(await demo.auditCount("refresh_token.reuse_detected")).toBe(0);
      const page = tab.context.pages()[0];
      if (!page) throw new Error("the tab is gone");
      const refreshesBefore = tab.log.of("Refresh").length;
      await tab.warp(50_000);
      expect((await reloadData(page)).state).toBe("signed-in");
      await tab.log.settled();
      expect(
        tab.log
          .of("Refresh")
          .slice(refreshesBefore)
          .map((e) => e.errors),
      ).toEqual([[]]);
    } finally {
      await tab.close();
    }
  });
});
