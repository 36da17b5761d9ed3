/** Every expiry, window and grace decision reads time from here, so tests can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Whole seconds since the epoch, the unit JWT claims use. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
