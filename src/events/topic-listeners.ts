import { decodePayload } from "./event-payload.js";

type Listener = (payload: unknown) => void;

/**
 * This process's listeners by topic. A topic nobody listens to has no entry, so publishing to it
 * costs no parse and keeps nothing; a listener that throws does not stop the others.
 */
export class TopicListeners {
  private readonly byTopic = new Map<string, Set<Listener>>();

  add(topic: string, listener: Listener): () => void {
    let set = this.byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.byTopic.set(topic, set);
    }
    set.add(listener);
    return () => {
      const current = this.byTopic.get(topic);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.byTopic.delete(topic);
    };
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** Delivers one event (as JSON) to the topic's listeners, parsed once for all of them. */
  emit(topic: string, json: string): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    const payload = decodePayload(json);
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch {
        // A listener is a subscription's queue; its own failure closes its own connection.
      }
    }
  }

  /** Topics with at least one listener. */
  get topicCount(): number {
    return this.byTopic.size;
  }

  clear(): void {
    this.byTopic.clear();
  }
}
