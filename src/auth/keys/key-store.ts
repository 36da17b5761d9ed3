import { KeyObject } from "node:crypto";
import { type CryptoKey, calculateJwkThumbprint, importJWK, type JWK } from "jose";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { Prisma, SigningKey } from "../../db/database.js";
import { decryptPrivateKey, encryptPrivateKey } from "./key-encryption.js";
import { KeyStoreError } from "./key-store-error.js";
import { reencryptLegacyKeys } from "./reencrypt-legacy-keys.js";
import {
  generateSigningKeyMaterial,
  isPrivateHalfOf,
  isSigningAlg,
  type PublicSigningJwk,
  publicMembers,
  type SigningAlg,
} from "./signing-key-material.js";

export interface KeyStoreConfig {
  alg: SigningAlg;
  /** Encrypts private keys at rest when set; without it they are stored in plain JSON. */
  encryptionSecret: string | null;
  /** The longest access-token lifetime: a retired key stays published this long (plus tolerance). */
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  /**
   * How long a new key is published before it signs (default 60 s). Every instance must reload
   * its keys more often than this, or it would see tokens signed by a key it does not know yet.
   */
  publishDelaySeconds?: number;
  /** `rotateIfDue()` rotates when the newest key is older than this; 0 or absent: never. */
  rotationIntervalDays?: number;
}

/** The key store's slice of the validated configuration. */
export function keyStoreConfig(config: Config): KeyStoreConfig {
  return {
    alg: config.tokens.alg,
    encryptionSecret: config.keys.encryptionSecret,
    accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
    clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    publishDelaySeconds: config.keys.publishDelaySeconds,
    rotationIntervalDays: config.keys.rotationIntervalDays,
  };
}

export interface KeyStoreDeps {
  prisma: Prisma;
  clock: Clock;
  config: KeyStoreConfig;
}

export interface SigningKeyHandle {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: CryptoKey;
  /** The same private key for node:crypto, which signs without WebCrypto's asynchronous job. */
  readonly keyObject: KeyObject;
}

/** A JWKS member: public parameters only. */
export interface PublishedJwk extends PublicSigningJwk {
  kid: string;
  alg: SigningAlg;
  use: "sig";
}

export interface RotateOptions {
  /** Sign with the new key at once, without the publish delay (tests, or a compromised key). */
  immediate?: boolean;
}

interface LoadedKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly stored: string;
  readonly published: PublishedJwk;
  readonly verifyKey: CryptoKey;
  readonly signing: SigningKeyHandle;
  readonly createdAt: number;
  readonly activatesAt: number;
  readonly retiredAt: number | null;
  readonly expiresAt: number | null;
}

const DEFAULT_PUBLISH_DELAY_SECONDS = 60;
const SELF_TEST = new TextEncoder().encode("holdfast signing key self-test");

/**
 * The signing keys, held in memory; `verificationKey` and `jwks` never touch the database.
 *
 * Lifecycle of a key, all decided from the injected clock against dates stored on the row:
 * published at creation → signs from `activatesAt` → stops signing at `retiredAt` → leaves the
 * JWKS (and stops verifying) at `expiresAt` = retiredAt + longest token lifetime + tolerance.
 * Because every instance decides from the same rows, instances agree after `reload()`.
 */
export class KeyStore {
  readonly #prisma: Prisma;
  readonly #clock: Clock;
  readonly #config: KeyStoreConfig;
  #keys = new Map<string, LoadedKey>();
  /** Oldest first: (activatesAt, createdAt, kid). The first active one signs. */
  #ordered: LoadedKey[] = [];

  private constructor(deps: KeyStoreDeps) {
    this.#prisma = deps.prisma;
    this.#clock = deps.clock;
    this.#config = deps.config;
  }

  /** Loads the keys, creating the first one when none can sign. Throws KeyStoreError when a key cannot be used. */
  static async open(deps: KeyStoreDeps): Promise<KeyStore> {
    const store = new KeyStore(deps);
    const secret = deps.config.encryptionSecret;
    if (secret !== null) await reencryptLegacyKeys(deps.prisma, secret);
    await store.reload();
    if (store.#activeKey(store.#clock.now().getTime()) === undefined) {
      await store.#createInitialKey();
      await store.reload();
    }
    return store;
  }

  /**
   * The key to sign with now. When two instances started at once and each created a key, all
   * of them pick the same one (the oldest) once they have reloaded, and the other is never used.
   */
  signingKey(): SigningKeyHandle {
    const key = this.#activeKey(this.#clock.now().getTime());
    if (key === undefined) {
      throw new KeyStoreError("no_signing_key", `No active ${this.#config.alg} signing key; rotate keys`);
    }
    return key.signing;
  }

  /** The public key for a token header's kid and alg, or undefined when it is unknown or expired. */
  verificationKey(kid: string, alg: string): CryptoKey | undefined {
    const key = this.#keys.get(kid);
    if (key === undefined || key.alg !== alg || this.#isExpired(key, this.#clock.now().getTime())) {
      return undefined;
    }
    return key.verifyKey;
  }

  /** The JWKS document: every key not yet expired, including those not yet signing. */
  jwks(): { keys: PublishedJwk[] } {
    const now = this.#clock.now().getTime();
    return { keys: this.#ordered.filter((k) => !this.#isExpired(k, now)).map((k) => ({ ...k.published })) };
  }

  /**
   * Creates a key that signs after the publish delay (or at once with `immediate`), and schedules
   * every other key to retire at that moment. Returns when the new key is stored and loaded.
   */
  async rotate(options: RotateOptions = {}): Promise<{ kid: string; activatesAt: Date }> {
    const now = this.#clock.now();
    const delaySeconds = options.immediate
      ? 0
      : (this.#config.publishDelaySeconds ?? DEFAULT_PUBLISH_DELAY_SECONDS);
    const activatesAt = new Date(now.getTime() + delaySeconds * 1000);
    const row = await this.#newRow(now, activatesAt);
    await this.#prisma.$transaction([
      // Every key still signing or due to sign retires when the new one activates; a key already
      // due to retire earlier keeps its date. So keys form a chain with no gap and no overlap,
      // whatever order two racing rotations commit in.
      this.#prisma.signingKey.updateMany({
        where: { kid: { not: row.kid }, OR: [{ retiredAt: null }, { retiredAt: { gt: activatesAt } }] },
        data: { retiredAt: activatesAt, expiresAt: this.#expiryAfterRetirement(activatesAt) },
      }),
      this.#prisma.signingKey.create({ data: row }),
      this.#prisma.signingKey.deleteMany({ where: { expiresAt: { lte: now } } }),
    ]);
    await this.reload();
    return { kid: row.kid, activatesAt };
  }

  /** Rotates when `rotationIntervalDays` has passed since the newest key activated; null when not due. */
  async rotateIfDue(): Promise<{ kid: string; activatesAt: Date } | null> {
    const days = this.#config.rotationIntervalDays ?? 0;
    if (days <= 0) return null;
    const newest = this.#ordered.filter((k) => k.alg === this.#config.alg).at(-1);
    const now = this.#clock.now().getTime();
    if (newest !== undefined && now - newest.activatesAt < days * 86_400_000) return null;
    return this.rotate();
  }

  /**
   * Re-reads every unexpired key from the database. On failure the keys in memory stay as they
   * were and the error is thrown, so a running server keeps verifying.
   */
  async reload(): Promise<void> {
    const now = this.#clock.now();
    const rows = await this.#prisma.signingKey.findMany({
      where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    });
    const next = new Map<string, LoadedKey>();
    for (const row of rows) next.set(row.kid, await this.#load(row));
    this.#keys = next;
    this.#ordered = [...next.values()].sort(
      (a, b) =>
        a.activatesAt - b.activatesAt ||
        a.createdAt - b.createdAt ||
        (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0),
    );
  }

  #activeKey(now: number): LoadedKey | undefined {
    return this.#ordered.find(
      (k) =>
        k.alg === this.#config.alg && k.activatesAt <= now && (k.retiredAt === null || k.retiredAt > now),
    );
  }

  #isExpired(key: LoadedKey, now: number): boolean {
    return key.expiresAt !== null && now >= key.expiresAt;
  }

  #expiryAfterRetirement(retiredAt: Date): Date {
    const { accessTokenTtlSeconds, clockToleranceSeconds } = this.#config;
    return new Date(retiredAt.getTime() + (accessTokenTtlSeconds + clockToleranceSeconds) * 1000);
  }

  /**
   * First start, or the configured alg changed: a key that signs at once (nobody can hold a
   * token from it yet). Keys of another alg retire now; keys of this alg are left alone, since
   * an instance starting concurrently may already sign with its own.
   */
  async #createInitialKey(): Promise<void> {
    const now = this.#clock.now();
    const row = await this.#newRow(now, now);
    await this.#prisma.$transaction([
      this.#prisma.signingKey.updateMany({
        where: {
          alg: { not: this.#config.alg },
          OR: [{ retiredAt: null }, { retiredAt: { gt: now } }],
        },
        data: { retiredAt: now, expiresAt: this.#expiryAfterRetirement(now) },
      }),
      this.#prisma.signingKey.create({ data: row }),
    ]);
  }

  async #newRow(createdAt: Date, activatesAt: Date): Promise<SigningKey> {
    const { alg, encryptionSecret } = this.#config;
    const material = await generateSigningKeyMaterial(alg);
    const privateJson = JSON.stringify(material.privateJwk);
    return {
      kid: material.kid,
      alg,
      publicJwk: JSON.stringify(material.publicJwk),
      privateKey:
        encryptionSecret === null
          ? privateJson
          : await encryptPrivateKey(privateJson, material.kid, encryptionSecret),
      encrypted: encryptionSecret !== null,
      createdAt,
      activatesAt,
      retiredAt: null,
      expiresAt: null,
    };
  }

  async #load(row: SigningKey): Promise<LoadedKey> {
    const dates = {
      createdAt: row.createdAt.getTime(),
      activatesAt: row.activatesAt.getTime(),
      retiredAt: row.retiredAt?.getTime() ?? null,
      expiresAt: row.expiresAt?.getTime() ?? null,
    };
    // Key material never changes for a kid; only the dates do. Skip decrypting and importing again.
    const known = this.#keys.get(row.kid);
    if (known !== undefined && known.stored === row.privateKey && known.alg === row.alg) {
      return { ...known, ...dates };
    }

    const kid = row.kid;
    const corrupt = (what: string) => new KeyStoreError("key_corrupt", `Signing key ${kid}: ${what}`);
    if (!isSigningAlg(row.alg)) throw corrupt(`unsupported alg ${row.alg}`);
    const alg = row.alg;

    let publicJwk: PublicSigningJwk;
    try {
      publicJwk = publicMembers(JSON.parse(row.publicJwk) as JWK, alg);
    } catch {
      throw corrupt("public key is not a valid JWK");
    }
    if ((await calculateJwkThumbprint(publicJwk, "sha256")) !== kid) {
      throw corrupt("kid is not the thumbprint of its public key");
    }

    let privateJson: string;
    if (row.encrypted) {
      const secret = this.#config.encryptionSecret;
      if (secret === null) {
        throw new KeyStoreError(
          "encryption_secret_missing",
          `Signing key ${kid} is encrypted at rest but no KEY_ENCRYPTION_SECRET is configured`,
        );
      }
      privateJson = await decryptPrivateKey(row.privateKey, kid, secret);
    } else {
      privateJson = row.privateKey;
    }
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(privateJson) as JWK;
    } catch {
      throw corrupt("private key is not valid JSON");
    }
    if (!isPrivateHalfOf(privateJwk, publicJwk)) throw corrupt("private key does not match its public key");

    let signKey: CryptoKey;
    let verifyKey: CryptoKey;
    try {
      signKey = (await importJWK(privateJwk, alg, { extractable: false })) as CryptoKey;
      verifyKey = (await importJWK({ ...publicJwk }, alg)) as CryptoKey;
    } catch {
      throw corrupt("key cannot be imported");
    }
    // A row whose `d` belongs to another key would sign tokens nobody can verify: catch it here.
    const params = alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
    const signature = await crypto.subtle.sign(params, signKey, SELF_TEST);
    if (!(await crypto.subtle.verify(params, verifyKey, signature, SELF_TEST))) {
      throw corrupt("private key does not match its public key");
    }

    return {
      kid,
      alg,
      stored: row.privateKey,
      published: { ...publicJwk, kid, alg, use: "sig" },
      verifyKey,
      signing: Object.freeze({ kid, alg, key: signKey, keyObject: KeyObject.from(signKey) }),
      ...dates,
    };
  }
}
