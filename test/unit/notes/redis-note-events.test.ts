// While Redis is down, note events still reach this instance's subscribers; the loss for other
// instances is logged once per outage, and once more when events flow again.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { NoteEventModel } from "../../../src/notes/note-events.js";
import { RedisNoteEventBus } from "../../../src/notes/redis-note-events.js";

function fakeRedis(publish: () => Promise<number>): Redis {
  return Object.assign(new EventEmitter(), {
    status: "end",
    publish,
    subscribe: async () => 1,
  }) as unknown as Redis;
}

const event: NoteEventModel = { kind: "DELETED", noteId: "n1", note: null };

describe("RedisNoteEventBus", () => {
  it("delivers locally while Redis is down, and logs the outage once and the recovery once", async () => {
    let up = false;
    const publisher = fakeRedis(() =>
      up ? Promise.resolve(1) : Promise.reject(new Error("Connection is closed.")),
    );
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const bus = new RedisNoteEventBus(
      publisher,
      fakeRedis(() => Promise.resolve(0)),
      logger,
      "c",
    );
    const seen: NoteEventModel[] = [];
    bus.subscribe((e) => seen.push(e));
    for (let i = 0; i < 5; i++) bus.publish(event);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(5);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    up = true;
    bus.publish(event);
    bus.publish(event);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l.level === 30)).toHaveLength(1);
  });

  it("ignores its own messages from Redis (already delivered) and delivers the other instances'", async () => {
    const subscriber = fakeRedis(() => Promise.resolve(0));
    const sent: string[] = [];
    const publisher = fakeRedis(async () => 1);
    (publisher as unknown as { publish: (c: string, m: string) => Promise<number> }).publish = async (
      _c,
      m,
    ) => {
      sent.push(m);
      return 1;
    };
    const bus = new RedisNoteEventBus(publisher, subscriber, pino({ level: "silent" }), "chan");
    const seen: NoteEventModel[] = [];
    bus.subscribe((e) => seen.push(e));
    bus.publish(event);
    subscriber.emit("message", "chan", sent[0]);
    expect(seen).toHaveLength(1);
    const other = JSON.parse(sent[0]!) as { o: string };
    other.o = "another-instance";
    subscriber.emit("message", "chan", JSON.stringify(other));
    subscriber.emit("message", "chan", "not json");
    expect(seen).toEqual([event, event]);
  });
});
