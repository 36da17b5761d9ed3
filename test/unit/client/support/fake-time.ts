import type { ClientClock, ClientTimers } from "../../../../src/client/index.js";

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly ms: number;
  readonly callback: () => void;
}

/** A clock and timers that move only when the test says so. */
export class FakeTime implements ClientClock, ClientTimers {
  #now: number;
  #nextId = 1;
  #pending: PendingTimer[] = [];
  /** The requested delay of every timer that fired, in order. */
  readonly fired: number[] = [];

  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), ms, callback };
    this.#pending.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending = this.#pending.filter((t) => t.id !== handle);
  }

  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (!next || next.at > target) break;
      this.#fire(next);
    }
    this.#now = target;
  }

  /**
   * Waits for `promise`, jumping the clock to the next timer whenever the client waits on one (a backoff
   * sleep). Real ticks in between let WebCrypto and the fake server finish their work.
   */
  async run<T>(promise: Promise<T>, maxRealMs = 5000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    const deadline = Date.now() + maxRealMs;
    while (!settled) {
      for (let i = 0; i < 5 && !settled; i++) await realTick();
      if (settled) break;
      const next = this.#earliest();
      if (next) this.#fire(next);
      else if (Date.now() > deadline)
        throw new Error("FakeTime.run: the promise is stuck with no timer pending");
    }
    return promise;
  }

  #earliest(): PendingTimer | undefined {
    return [...this.#pending].sort((a, b) => a.at - b.at || a.id - b.id)[0];
  }

  #fire(timer: PendingTimer): void {
    this.#pending = this.#pending.filter((t) => t !== timer);
    this.#now = Math.max(this.#now, timer.at);
    this.fired.push(timer.ms);
    timer.callback();
  }
}

export function realTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
