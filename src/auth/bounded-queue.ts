import { ServiceUnavailableError } from "../errors/app-error.js";

/**
 * Runs at most `concurrency` jobs at once, first come first served, with at most `queueLimit`
 * waiting; one more is refused at once with a retryable SERVICE_UNAVAILABLE (503), so a storm
 * costs a bounded amount of memory and CPU instead of a growing backlog.
 *
 * Why our own: p-limit and p-queue bound concurrency but neither refuses when its queue is full,
 * and Piscina's `maxQueue` also refuses in the moment between a task's answer and its thread
 * reporting ready (a login right after another would get a 503); this is twenty lines.
 */
export class BoundedQueue {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be ≥ 1");
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency) {
      this.#running += 1;
    } else {
      if (this.#waiting.length >= this.queueLimit)
        throw new ServiceUnavailableError("The server is busy, retry shortly", "server_busy");
      // The finishing job hands its slot over: `running` does not drop in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
