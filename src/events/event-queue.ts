/**
 * One subscription's events between the bus and the socket: an async iterator with a bounded
 * queue. A reader that falls `max` events behind (a client that stops reading fills its socket,
 * so graphql-ws stops pulling) is not buffered for without end: `onOverflow` ends its connection.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly queued: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ended = false;

  constructor(
    private readonly max: number,
    private readonly onOverflow: () => void,
    private readonly onEnd: () => void,
  ) {}

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
      return;
    }
    if (this.queued.length >= this.max) {
      this.end();
      this.onOverflow();
      return;
    }
    this.queued.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    // By length, not by value: any JSON value, null included, is an event.
    if (this.queued.length > 0) return Promise.resolve({ value: this.queued.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Ends the stream now, even while a `next()` waits (a generator's return would wait behind it). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.length = 0;
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
    this.onEnd();
  }

  async return(): Promise<IteratorResult<T>> {
    this.end();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
