import type { EventBus, ModuleEvents } from "./event-bus.js";
import { EventQueue } from "./event-queue.js";

export interface ConnectionStreamsOptions {
  /** Events one stream may fall behind by before `onOverflow` (a slow consumer). */
  readonly maxQueuedEvents: number;
  /** A stream overflowed: the connection ends (every stream with it). */
  readonly onOverflow: () => void;
}

/**
 * The event streams of one connection: `context.events` for its subscriptions. Every stream is a
 * bounded queue on the bus; all of them end when the connection does (`endAll`), and a stream
 * asked for after that is already ended.
 */
export class ConnectionStreams {
  private readonly queues = new Set<EventQueue<unknown>>();
  private ended = false;

  readonly events: ModuleEvents;

  constructor(
    private readonly bus: EventBus,
    private readonly options: ConnectionStreamsOptions,
  ) {
    this.events = {
      publish: (topic, payload) => bus.publish(topic, payload),
      subscribe: <T>(topic: string) => this.subscribe(topic) as AsyncIterableIterator<T>,
    };
  }

  /** Streams running now. */
  get size(): number {
    return this.queues.size;
  }

  subscribe(topic: string): AsyncIterableIterator<unknown> {
    let stop: () => void = () => {};
    const queue: EventQueue<unknown> = new EventQueue(
      this.options.maxQueuedEvents,
      this.options.onOverflow,
      () => {
        stop();
        this.queues.delete(queue);
      },
    );
    // An invalid topic throws here, before the queue counts as a stream.
    const unsubscribe = this.bus.subscribe(topic, (payload) => queue.push(payload));
    if (this.ended) {
      unsubscribe();
      queue.end();
      return queue;
    }
    stop = unsubscribe;
    this.queues.add(queue);
    return queue;
  }

  endAll(): void {
    this.ended = true;
    for (const queue of [...this.queues]) queue.end();
  }
}
