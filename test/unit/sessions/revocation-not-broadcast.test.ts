// While Redis is down, each logout's revocation cannot be broadcast. The operator needs to know once
// per outage, not once per logout: one warning, then debug lines, and a warning again in the next outage.
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RedisRevocationBus } from "../../../src/auth/sessions/redis-revocation-bus.js";
import { RevocationChannelSigner } from "../../../src/auth/sessions/revocation-channel-signer.js";
import { freePort } from "../../support/private-services.js";

const connections: Redis[] = [];
afterEach(() => {
  for (const c of connections.splice(0)) c.disconnect();
});

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ level: "debug" }, stream) };
}

/** A connection to a port where nothing listens, failing fast as the production one does. */
async function unreachable(): Promise<Redis> {
  const redis = new Redis(await freePort(), "127.0.0.1", {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  connections.push(redis);
  return redis;
}

describe("a revocation that cannot be broadcast", () => {
  it("is warned about once per outage, however many logouts happen during it", async () => {
    const { lines, logger } = capture();
    const publisher = await unreachable();
    const bus = new RedisRevocationBus(
      publisher,
      await unreachable(),
      logger,
      new RevocationChannelSigner(null, "test:revocations"),
      "test:revocations",
    );
    for (let i = 0; i < 5; i++)
      await bus.publish([{ sessionId: `s${i}`, until: new Date(Date.now() + 60_000) }]);
    const notBroadcast = lines.filter((l) => l.msg.startsWith("revocation not broadcast"));
    expect(notBroadcast.map((l) => l.level)).toEqual([40, 20, 20, 20, 20]);

    // Redis answers again (the publisher is ready): the next outage is warned about anew.
    publisher.emit("ready");
    await bus.publish([{ sessionId: "s5", until: new Date(Date.now() + 60_000) }]);
    const after = lines.filter((l) => l.msg.startsWith("revocation not broadcast")).slice(5);
    expect(after.map((l) => l.level)).toEqual([40]);
    await bus.close();
  });
});
