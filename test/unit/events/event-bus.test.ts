// The topic event bus (src/events): what a module's publish and subscribe may rely on, the same in
// process and over Redis. Redis here is a stand-in (no server); test/events/ uses the real one.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import pino from "pino";
import { describe, expect, it } from "vitest";
import {
  ConnectionStreams,
  type EventBus,
  EventPublishError,
  InProcessEventBus,
  MAX_TOPIC_LENGTH,
  RedisEventBus,
} from "../../../src/events/index.js";

function fakeRedis(publish: (channel: string, message: string) => Promise<number>): Redis {
  return Object.assign(new EventEmitter(), {
    status: "end",
    publish,
    subscribe: async () => 1,
  }) as unknown as Redis;
}

const buses: Record<string, () => EventBus> = {
  "in process": () => new InProcessEventBus(),
  "over Redis": () =>
    new RedisEventBus(
      fakeRedis(async () => 1),
      fakeRedis(async () => 0),
      pino({ level: "silent" }),
      "c",
    ),
};

function reasonOf(action: () => void): string | null {
  try {
    action();
    return null;
  } catch (error) {
    return error instanceof EventPublishError ? error.reason : `not an EventPublishError: ${String(error)}`;
  }
}

describe.each(Object.entries(buses))("the event bus %s", (_, create) => {
  it("refuses an empty, overlong, spaced or non-printable topic, on publish and subscribe", () => {
    const bus = create();
    const bad = ["", "x".repeat(MAX_TOPIC_LENGTH + 1), "has space", "new\nline", "tab\t", "café", "\u0000"];
    for (const topic of bad) {
      expect({ topic, reason: reasonOf(() => bus.publish(topic, {})) }).toEqual({
        topic,
        reason: "invalid_topic",
      });
      expect({ topic, reason: reasonOf(() => bus.subscribe(topic, () => {})) }).toEqual({
        topic,
        reason: "invalid_topic",
      });
    }
    for (const topic of ["notes", "orders:42:status", "x".repeat(MAX_TOPIC_LENGTH), "a.b-c_d/e"]) {
      expect(reasonOf(() => bus.publish(topic, {}))).toBeNull();
    }
  });

  it("refuses at the publisher a payload JSON cannot carry, delivering nothing", () => {
    const bus = create();
    const seen: unknown[] = [];
    bus.subscribe("t", (payload) => seen.push(payload));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const payload of [undefined, 1n, { n: 1n }, cycle, () => 1, Symbol("s")]) {
      expect(reasonOf(() => bus.publish("t", payload))).toBe("payload_not_json");
    }
    expect(seen).toEqual([]);
  });

  it("delivers the JSON round trip of the payload (Dates as ISO strings), frozen and shared by subscribers", () => {
    const bus = create();
    const first: unknown[] = [];
    const second: unknown[] = [];
    bus.subscribe("t", (p) => first.push(p));
    bus.subscribe("t", (p) => second.push(p));
    bus.subscribe("other", () => {
      throw new Error("not this topic");
    });
    const at = new Date("2030-01-02T03:04:05.678Z");
    bus.publish("t", { at, gone: undefined, list: [1, "two", null], nested: { ok: true } });
    expect(first).toEqual([{ at: "2030-01-02T03:04:05.678Z", list: [1, "two", null], nested: { ok: true } }]);
    expect(second[0]).toBe(first[0]);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen((first[0] as { nested: object }).nested)).toBe(true);
    bus.publish("t", null);
    bus.publish("t", "text");
    expect(first.slice(1)).toEqual([null, "text"]);
  });

  it("publishing with no subscriber never throws, and a listener that throws does not stop the others", () => {
    const bus = create();
    for (let i = 0; i < 1000; i++) bus.publish(`nobody-${i}`, { i });
    const seen: unknown[] = [];
    bus.subscribe("t", () => {
      throw new Error("a broken listener");
    });
    const stop = bus.subscribe("t", (p) => seen.push(p));
    expect(() => bus.publish("t", 1)).not.toThrow();
    stop();
    bus.publish("t", 2);
    expect(seen).toEqual([1]);
  });
});

describe("InProcessEventBus", () => {
  it("keeps nothing for topics without subscribers, nor for subscriptions that ended", () => {
    const bus = new InProcessEventBus();
    for (let i = 0; i < 1000; i++) bus.publish(`nobody-${i}`, { i });
    expect(bus.topicCount).toBe(0);
    const stops = [bus.subscribe("a", () => {}), bus.subscribe("a", () => {}), bus.subscribe("b", () => {})];
    expect(bus.topicCount).toBe(2);
    for (const stop of stops) stop();
    expect(bus.topicCount).toBe(0);
  });
});

describe("RedisEventBus", () => {
  it("delivers locally while Redis is down, and logs the outage once and the recovery once", async () => {
    let up = false;
    const publisher = fakeRedis(() =>
      up ? Promise.resolve(1) : Promise.reject(new Error("Connection is closed.")),
    );
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const bus = new RedisEventBus(
      publisher,
      fakeRedis(async () => 0),
      logger,
      "c",
    );
    const seen: unknown[] = [];
    bus.subscribe("t", (p) => seen.push(p));
    for (let i = 0; i < 5; i++) bus.publish("t", i);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    up = true;
    bus.publish("t", 5);
    bus.publish("t", 6);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l.level === 30)).toHaveLength(1);
  });

  it("ignores its own messages from Redis (already delivered) and malformed ones; delivers the others'", () => {
    const subscriber = fakeRedis(async () => 0);
    const sent: string[] = [];
    const publisher = fakeRedis(async (_channel, message) => {
      sent.push(message);
      return 1;
    });
    const bus = new RedisEventBus(publisher, subscriber, pino({ level: "silent" }), "chan");
    const seen: unknown[] = [];
    bus.subscribe("t", (p) => seen.push(p));
    bus.publish("t", { n: 1 });
    subscriber.emit("message", "chan", sent[0]);
    expect(seen).toEqual([{ n: 1 }]);
    const [, topic, json] = sent[0]!.split("\n");
    subscriber.emit("message", "chan", `another-instance\n${topic}\n${json}`);
    subscriber.emit("message", "chan", `another-instance\nunheard\n${json}`);
    subscriber.emit("message", "chan", "not a message");
    subscriber.emit("message", "chan", "another-instance\nt\n{not json");
    subscriber.emit("message", "another-channel", `another-instance\n${topic}\n${json}`);
    expect(seen).toEqual([{ n: 1 }, { n: 1 }]);
  });
});

describe("ConnectionStreams", () => {
  it("ends every stream when the connection ends, unsubscribes them, and ends a stream asked for later", async () => {
    const bus = new InProcessEventBus();
    const streams = new ConnectionStreams(bus, { maxQueuedEvents: 10, onOverflow: () => {} });
    const a = streams.events.subscribe<number>("a")[Symbol.asyncIterator]();
    const b = streams.events.subscribe<number>("b")[Symbol.asyncIterator]();
    const waiting = b.next();
    bus.publish("a", 1);
    expect(await a.next()).toEqual({ value: 1, done: false });
    expect(streams.size).toBe(2);
    streams.endAll();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(await a.next()).toEqual({ value: undefined, done: true });
    expect(streams.size).toBe(0);
    expect(bus.topicCount).toBe(0);
    const late = streams.events.subscribe("a")[Symbol.asyncIterator]();
    expect(await late.next()).toEqual({ value: undefined, done: true });
    expect(bus.topicCount).toBe(0);
  });

  it("calls onOverflow when a stream falls maxQueuedEvents behind, and ends that stream", async () => {
    const bus = new InProcessEventBus();
    let overflowed = 0;
    const streams = new ConnectionStreams(bus, { maxQueuedEvents: 2, onOverflow: () => void overflowed++ });
    const stream = streams.events.subscribe("t")[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) bus.publish("t", i);
    expect(overflowed).toBe(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(bus.topicCount).toBe(0);
  });
});
