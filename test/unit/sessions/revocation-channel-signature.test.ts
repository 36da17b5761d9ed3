// The revocation channel's signatures over a real Redis (issue 27, finding 5): what is not signed with
// the shared key is ignored and counted, and a replayed heartbeat cannot keep a stalled feed healthy.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RedisRevocationBus } from "../../../src/auth/sessions/redis-revocation-bus.js";
import type { Revocation } from "../../../src/auth/sessions/revocation.js";
import { RevocationChannelSigner } from "../../../src/auth/sessions/revocation-channel-signer.js";
import { createRedis } from "../../../src/server/redis.js";
import { SHARED_REDIS_URL } from "../../support/shared-services.js";

const logger = pino({ level: "silent" });
const cleanups: (() => void)[] = [];
afterEach(() => {
  // Last made, first undone: timers stop before the connections they use close.
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function connection(name: string): Redis {
  const redis = createRedis(SHARED_REDIS_URL, logger, name);
  cleanups.push(() => redis.disconnect());
  return redis;
}

/** Production connections have no offline queue: commands wait for "ready". */
async function ready(redis: Redis): Promise<Redis> {
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  return redis;
}

async function busOn(channel: string, secret: string): Promise<RedisRevocationBus> {
  const bus = new RedisRevocationBus(
    connection("pub"),
    connection("sub"),
    logger,
    new RevocationChannelSigner(secret, channel),
    channel,
  );
  cleanups.push(() => void bus.close());
  await bus.start();
  return bus;
}

/** Polls `check` every 20 ms until true; the elapsed ms, or null past `timeoutMs`. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number | null> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started >= timeoutMs) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

const until = () => new Date(Date.now() + 60_000);

describe("the signed revocation channel", () => {
  it("delivers revocations signed with the shared secret, and ignores and counts those signed with another", async () => {
    const channel = `holdfast-test-${randomBytes(6).toString("hex")}:revocations`;
    const secret = randomBytes(32).toString("base64url");
    const [a, b, stranger] = await Promise.all([
      busOn(channel, secret),
      busOn(channel, secret),
      busOn(channel, randomBytes(32).toString("base64url")),
    ]);
    const received: Revocation[] = [];
    b.subscribe((list) => received.push(...list));
    const before = b.rejectedMessages;

    await stranger.publish([{ sessionId: "forged", until: until() }]);
    await a.publish([
      { sessionId: "s1", until: until() },
      { sessionId: "s2", until: until() },
    ]);
    expect(await within(1000, async () => received.length === 2)).not.toBeNull();
    expect(received.map((r) => r.sessionId)).toEqual(["s1", "s2"]);
    // The stranger's revocation and its heartbeats are counted, never delivered.
    expect(b.rejectedMessages).toBeGreaterThan(before);
  });

  it("does not count a replayed heartbeat of its own: a feed whose publishes stall turns unhealthy", async () => {
    const channel = `holdfast-test-${randomBytes(6).toString("hex")}:revocations`;
    const publisher = connection("pub");
    const bus = new RedisRevocationBus(
      publisher,
      connection("sub"),
      logger,
      new RevocationChannelSigner(randomBytes(32).toString("base64url"), channel),
      channel,
    );
    cleanups.push(() => void bus.close());
    // Someone with access to Redis records the channel…
    const recorded: string[] = [];
    const eavesdropper = await ready(connection("eavesdropper"));
    eavesdropper.on("message", (_channel: string, message: string) => recorded.push(message));
    await eavesdropper.subscribe(channel);
    await bus.start();
    expect(await within(1000, async () => bus.healthy && recorded.length >= 2)).not.toBeNull();

    // …then this instance's publishes stall (as under CLIENT PAUSE WRITE) while the recording is
    // replayed on the channel, faster than heartbeats are sent.
    publisher.publish = (() => new Promise(() => {})) as unknown as Redis["publish"];
    const replayer = await ready(connection("replayer"));
    const replay = setInterval(() => {
      for (const message of recorded) replayer.publish(channel, message).catch(() => {});
    }, 50);
    cleanups.push(() => clearInterval(replay));
    expect(await within(2000, async () => !bus.healthy)).not.toBeNull();
  });
});
