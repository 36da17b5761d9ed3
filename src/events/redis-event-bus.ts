import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { EventBus } from "./event-bus.js";
import { checkTopic, encodePayload } from "./event-payload.js";
import { TopicListeners } from "./topic-listeners.js";

/**
 * Events between instances over Redis pub/sub, on ONE channel (`${keyPrefix}events`) for every
 * topic. One channel rather than one per topic subscribed on demand: `subscribe` stays synchronous
 * with no window in which another instance's event is missed while a SUBSCRIBE is in flight, and a
 * reconnect re-subscribes one fixed channel instead of a changing set. The cost, every instance
 * receiving every topic, stays small: the message is `origin\ntopic\njson`, so an instance with
 * no listener for the topic drops it without parsing the payload.
 *
 * Each event is delivered to this instance's subscribers at once (not through Redis), and
 * published for the others, which ignore their own. Pub/sub keeps nothing: while Redis is down,
 * events still reach the subscribers of the instance that published them, and the other
 * instances' subscribers miss them (live notifications, not a log: a client re-reads after a
 * reconnect). That is logged once per outage, and once more when events flow again.
 */
export class RedisEventBus implements EventBus {
  private readonly local = new TopicListeners();
  private readonly origin = randomUUID();
  private degraded = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly channel: string,
  ) {
    subscriber.on("message", (from: string, message: string) => {
      if (from === this.channel) this.received(message);
    });
    subscriber.on("ready", () => {
      subscriber
        .subscribe(this.channel)
        .catch((error: unknown) => logger.warn({ err: error }, "event channel subscription failed"));
    });
  }

  /** Resolves once subscribed; if Redis is away, the "ready" handler subscribes when it is back. */
  async start(): Promise<void> {
    if (this.subscriber.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        this.subscriber.once("ready", () => resolve());
        this.subscriber.once("error", reject);
      });
    }
    await this.subscriber.subscribe(this.channel);
  }

  publish(topic: string, payload: unknown): void {
    const json = encodePayload(checkTopic(topic), payload);
    this.local.emit(topic, json);
    this.publisher.publish(this.channel, `${this.origin}\n${topic}\n${json}`).then(
      () => {
        if (!this.degraded) return;
        this.degraded = false;
        this.logger.info("events reach other instances again (Redis back)");
      },
      (error: unknown) => {
        if (this.degraded) return;
        this.degraded = true;
        this.logger.warn(
          { err: error instanceof Error ? { message: error.message } : error },
          "events not reaching other instances: Redis unavailable (this instance's subscribers still get them)",
        );
      },
    );
  }

  subscribe(topic: string, listener: (payload: unknown) => void): () => void {
    return this.local.add(checkTopic(topic), listener);
  }

  /** Topics with a listener on this instance now. */
  get topicCount(): number {
    return this.local.topicCount;
  }

  async close(): Promise<void> {
    this.local.clear();
  }

  private received(message: string): void {
    const originEnd = message.indexOf("\n");
    const topicEnd = originEnd < 0 ? -1 : message.indexOf("\n", originEnd + 1);
    if (topicEnd < 0) {
      this.logger.warn("ignored a malformed event message");
      return;
    }
    if (message.slice(0, originEnd) === this.origin) return;
    const topic = message.slice(originEnd + 1, topicEnd);
    if (!this.local.has(topic)) return;
    try {
      this.local.emit(topic, message.slice(topicEnd + 1));
    } catch {
      this.logger.warn({ topic }, "ignored an event message whose payload is not JSON");
    }
  }
}
