// One instance loses Redis while the others keep it (a network partition). The others look healthy,
// so they do not poll the database: the cut-off instance's logouts must reach them once it is back.
import { randomBytes } from "node:crypto";
import { createServer, type Server, Socket } from "node:net";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { RedisRevocationBus } from "../../src/auth/sessions/redis-revocation-bus.js";
import type { Revocation } from "../../src/auth/sessions/revocation.js";
import { RevocationChannelSigner } from "../../src/auth/sessions/revocation-channel-signer.js";
import { createRedis } from "../../src/server/redis.js";
import { freePort } from "../support/private-services.js";
import { within } from "./cluster.js";

/** A TCP relay to the shared Redis that can be cut (every connection dropped, new ones refused). */
async function redisRelay(port: number) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(6379, "127.0.0.1");
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  await listen();
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server?.close(() => resolve());
        server = null;
      }),
    restore: listen,
    close() {
      for (const socket of sockets) socket.destroy();
      server?.close();
    },
  };
}

const logger = pino({ level: "silent" });
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

describe("revocation bus during a partition of one instance", () => {
  it("publishes a logout made while cut off as soon as the instance reaches Redis again", async () => {
    const channel = `holdfast-test-${randomBytes(6).toString("hex")}:revocations`;
    const relay = await redisRelay(await freePort());
    cleanups.push(() => relay.close());
    // A reaches Redis only through the relay; B directly.
    const [aPub, aSub] = [createRedis(relay.url, logger, "a-pub"), createRedis(relay.url, logger, "a-sub")];
    const [bPub, bSub] = [
      createRedis("redis://127.0.0.1:6379", logger, "b-pub"),
      createRedis("redis://127.0.0.1:6379", logger, "b-sub"),
    ];
    for (const redis of [aPub, aSub, bPub, bSub]) cleanups.push(() => redis.disconnect());
    // Both instances hold the same REVOCATION_CHANNEL_SECRET.
    const signer = new RevocationChannelSigner(randomBytes(32).toString("base64url"), channel);
    const a = new RedisRevocationBus(aPub, aSub, logger, signer, channel);
    const b = new RedisRevocationBus(bPub, bSub, logger, signer, channel);
    const received: Revocation[] = [];
    b.subscribe((list) => received.push(...list));
    await Promise.all([a.start(), b.start()]);

    await relay.cut();
    expect(await within(3000, async () => !a.healthy)).not.toBeNull();
    expect(b.healthy).toBe(true);
    await a.publish([{ sessionId: "session-cut-off", until: new Date(Date.now() + 60_000) }]);
    expect(received).toEqual([]);

    await relay.restore();
    const delivered = await within(5000, async () => received.length > 0);
    expect(delivered).not.toBeNull();
    expect(received.map((r) => r.sessionId)).toEqual(["session-cut-off"]);
  });
});
