import type { Clock } from "../../src/clock.js";

/** A clock that stands still until a test moves it, so expiry boundaries can be probed exactly. */
export class FakeClock implements Clock {
  #ms: number;

  constructor(start: Date | string = "2030-01-01T00:00:00.000Z") {
    this.#ms = toMs(start);
  }

  now(): Date {
    return new Date(this.#ms);
  }

  set(date: Date | string): void {
    this.#ms = toMs(date);
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError("advance: ms must be finite");
    this.#ms += ms;
  }

  advanceSeconds(s: number): void {
    this.advance(s * 1000);
  }
}

function toMs(date: Date | string): number {
  const ms = (typeof date === "string" ? new Date(date) : date).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`FakeClock: invalid date ${String(date)}`);
  return ms;
}
