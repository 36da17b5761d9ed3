import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReplayStore } from "../../../src/auth/dpop/index.js";
import { MemoryReplayStore, RedisReplayStore, verifyDpopProof } from "../../../src/auth/dpop/index.js";
import { ReplayCacheFullError } from "../../../src/auth/dpop/replay-cache-full-error.js";
import { ServiceUnavailableError } from "../../../src/errors/app-error.js";
import { createDpopKey, createDpopProof } from "../../support/dpop-proof.js";
import { FakeClock } from "../../support/fake-clock.js";
import { expectRefused } from "./expect-dpop.js";

const ENDPOINT = "https://api.example.com/graphql";
const inSeconds = (clock: FakeClock, s: number) => new Date(clock.now().getTime() + s * 1000);

describe("MemoryReplayStore", () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  it("answers true the first time and false for a replay before expiry", async () => {
    const store = new MemoryReplayStore(clock);
    await expect(store.remember("a", inSeconds(clock, 60))).resolves.toBe(true);
    clock.advanceSeconds(59);
    await expect(store.remember("a", inSeconds(clock, 60))).resolves.toBe(false);
    await expect(store.remember("b", inSeconds(clock, 60))).resolves.toBe(true);
  });

  it("forgets an identifier once its expiry has passed", async () => {
    const store = new MemoryReplayStore(clock);
    await store.remember("a", inSeconds(clock, 60));
    clock.advanceSeconds(60);
    await expect(store.remember("a", inSeconds(clock, 60))).resolves.toBe(true);
  });

  it("sweeps expired entries so memory follows the window, not the history", async () => {
    const store = new MemoryReplayStore(clock);
    for (let i = 0; i < 50; i++) await store.remember(`old-${i}`, inSeconds(clock, 60));
    clock.advanceSeconds(61);
    await store.remember("new", inSeconds(clock, 60));
    expect(store.size).toBe(1);
  });

  it("refuses new identifiers when full and never forgets an unexpired one (fails closed)", async () => {
    const lines: { level: string; message: string }[] = [];
    const logger = {
      warn: (_o: object, message: string) => void lines.push({ level: "warn", message }),
      info: (_o: object, message: string) => void lines.push({ level: "info", message }),
    };
    const store = new MemoryReplayStore(clock, { maxEntries: 100, logger });
    for (let i = 0; i < 100; i++) await store.remember(`flood-${i}`, inSeconds(clock, 60));
    for (let i = 100; i < 1000; i++) {
      await expect(store.remember(`flood-${i}`, inSeconds(clock, 60))).rejects.toBeInstanceOf(
        ReplayCacheFullError,
      );
    }
    expect(store.size).toBe(100);
    expect(store.refusals).toBe(900);
    // The earliest identifier is still remembered: its replay is caught, not accepted.
    await expect(store.remember("flood-0", inSeconds(clock, 60))).resolves.toBe(false);
    // One log line for the whole episode, not one per refusal.
    expect(lines).toEqual([{ level: "warn", message: expect.stringContaining("full") }]);

    clock.advanceSeconds(60);
    await expect(store.remember("later", inSeconds(clock, 60))).resolves.toBe(true);
    // Expired entries make room: a full cache's worth of new identifiers is accepted again.
    for (let i = 1; i < 100; i++)
      await expect(store.remember(`later-${i}`, inSeconds(clock, 60))).resolves.toBe(true);
    expect(lines.at(-1)).toEqual({ level: "info", message: expect.stringContaining("again") });
  });

  it("makes room from entries that expired out of insertion order", async () => {
    const store = new MemoryReplayStore(clock, { maxEntries: 2 });
    await store.remember("long", inSeconds(clock, 120));
    await store.remember("short", inSeconds(clock, 10));
    await expect(store.remember("x", inSeconds(clock, 60))).rejects.toBeInstanceOf(ReplayCacheFullError);
    clock.advanceSeconds(10);
    await expect(store.remember("x", inSeconds(clock, 60))).resolves.toBe(true);
    await expect(store.remember("long", inSeconds(clock, 60))).resolves.toBe(false);
  });

  it("answers a full cache with a retryable SERVICE_UNAVAILABLE", () => {
    const error = new ReplayCacheFullError();
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.publicExtensions()).toMatchObject({ retryable: true });
  });

  it("refuses a non-positive bound", () => {
    expect(() => new MemoryReplayStore(clock, { maxEntries: 0 })).toThrow(RangeError);
  });
});

describe("RedisReplayStore (Redis at 127.0.0.1:6379)", () => {
  const prefix = `holdfast-test:dpop:${randomUUID()}:`;
  let redis: Redis;
  let redis2: Redis;
  let clock: FakeClock;

  beforeAll(async () => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 });
    redis2 = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 });
    await Promise.all([redis.ping(), redis2.ping()]);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([redis.quit(), redis2.quit()]);
  });

  beforeEach(() => {
    clock = new FakeClock(new Date());
  });

  const storeOn = (client: Redis, options = {}) =>
    new RedisReplayStore(client, clock, { keyPrefix: prefix, ...options });

  it("answers true the first time and false for a replay", async () => {
    const store = storeOn(redis);
    const jti = randomUUID();
    await expect(store.remember(jti, inSeconds(clock, 60))).resolves.toBe(true);
    await expect(store.remember(jti, inSeconds(clock, 60))).resolves.toBe(false);
  });

  it("stores a hash of the identifier under the holdfast prefix, with a TTL covering the window", async () => {
    const store = storeOn(redis, { clockSkewMarginMs: 5_000 });
    const jti = `raw-${randomUUID()}`;
    await store.remember(jti, inSeconds(clock, 60));
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toContain(store.keyFor(jti));
    expect(keys.some((k) => k.includes(jti))).toBe(false);
    const ttl = await redis.pttl(store.keyFor(jti));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(65_000);
    expect(new RedisReplayStore(redis, clock).keyFor(jti)).toMatch(/^holdfast:dpop:jti:[A-Za-z0-9_-]{43}$/);
  });

  it("forgets an identifier when its TTL runs out", async () => {
    const store = storeOn(redis, { clockSkewMarginMs: 0 });
    const jti = randomUUID();
    await store.remember(jti, new Date(clock.now().getTime() + 30));
    await new Promise((resolve) => setTimeout(resolve, 80));
    await expect(store.remember(jti, inSeconds(clock, 60))).resolves.toBe(true);
  });

  it("lets exactly one of many concurrent first uses win", async () => {
    const stores = [storeOn(redis), storeOn(redis2)];
    const jti = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.remember(jti, inSeconds(clock, 60))),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it("catches a proof replayed to a second store instance sharing Redis", async () => {
    const key = await createDpopKey();
    const verifyOn = (store: ReplayStore, jws: string) =>
      verifyDpopProof({ headerValues: [jws], method: "POST", url: ENDPOINT }, { clock, replayStore: store });
    const jws = await createDpopProof(key, { htm: "POST", htu: ENDPOINT, iat: clock.now() });
    await expect(verifyOn(storeOn(redis), jws)).resolves.toMatchObject({ jkt: key.jkt });
    await expectRefused(verifyOn(storeOn(redis2), jws), "replay");
  });

  it("fails closed with ServiceUnavailableError when Redis cannot answer", async () => {
    const dead = new Redis({
      host: "127.0.0.1",
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const store = new RedisReplayStore(dead, clock, { keyPrefix: prefix });
      await expect(store.remember(randomUUID(), inSeconds(clock, 60))).rejects.toBeInstanceOf(
        ServiceUnavailableError,
      );
    } finally {
      dead.disconnect();
    }
  });
});
