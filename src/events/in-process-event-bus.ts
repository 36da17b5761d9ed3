import type { EventBus } from "./event-bus.js";
import { checkTopic, encodePayload } from "./event-payload.js";
import { TopicListeners } from "./topic-listeners.js";

/**
 * The embedded default: events stay in this process. The payload still goes through JSON, so a
 * module sees what it would see across instances over Redis (event-bus.ts).
 */
export class InProcessEventBus implements EventBus {
  private readonly local = new TopicListeners();

  publish(topic: string, payload: unknown): void {
    // Checked even with no listener: a bad payload fails in the module's first test, not later.
    const json = encodePayload(checkTopic(topic), payload);
    this.local.emit(topic, json);
  }

  subscribe(topic: string, listener: (payload: unknown) => void): () => void {
    return this.local.add(checkTopic(topic), listener);
  }

  /** Topics with a listener now (tests check that ended streams leave nothing behind). */
  get topicCount(): number {
    return this.local.topicCount;
  }

  async close(): Promise<void> {
    this.local.clear();
  }
}
