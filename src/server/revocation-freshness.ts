import { type Clock, systemClock } from "../clock.js";

export interface RevocationFreshnessDeps {
  /** Whether revocations reach this instance by pub/sub now (end-to-end heartbeats). */
  readonly feedHealthy: () => boolean;
  /** Reads recent revocations from the database into the in-memory set (the record). */
  readonly load: () => Promise<unknown>;
  readonly clock: Clock;
  /** Past this long without a successful read while the feed is unhealthy, the state is stale. */
  readonly staleAfterMs: number;
  /** The shortest gap between two reads asked for by held events (a flood asks for many). */
  readonly minPollSpacingMs: number;
  readonly onPollError: (error: unknown) => void;
}

/** A mark taken when an event arrives: the count of database reads started before it. */
export type ArrivalMark = number;

/**
 * Whether this instance can vouch that its revocation set is complete — the question live data
 * asks before every delivery (issue 25, "fail closed for live data").
 *
 * While the feed is healthy, it vouches. Otherwise an event is vouched for only by a database
 * read that *started after the event arrived*: every logout answered before the event was written
 * is then in the set, and its sockets are closed before the event could be sent. Reads are
 * counted, not timed, so the order holds with any clock. A held event asks for such a read at
 * once (coalesced, at most one in flight), rather than waiting for the polling timer.
 *
 * Stale: feed unhealthy and no successful read for `staleAfterMs`. Nothing can be vouched for
 * then; held events are released as refused and the caller closes connections (1013).
 */
export class RevocationFreshness {
  private started = 0;
  private vouchedThrough = 0;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  private scheduled: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly waiters: { mark: ArrivalMark; resolve: (vouched: boolean) => void }[] = [];

  constructor(private readonly deps: RevocationFreshnessDeps) {}

  /** Taken when an event arrives; `vouches(mark)` later says whether it may be delivered. */
  mark(): ArrivalMark {
    return this.started;
  }

  vouches(mark: ArrivalMark): boolean {
    return this.deps.feedHealthy() || this.vouchedThrough > mark;
  }

  /** Feed unhealthy and the last successful database read too old to vouch for anything. */
  stale(): boolean {
    if (this.deps.feedHealthy()) return false;
    return this.deps.clock.now().getTime() - this.lastSuccessAt > this.deps.staleAfterMs;
  }

  /** Milliseconds since the last successful database read (Infinity before the first). */
  lastPollAgeMs(): number {
    return this.deps.clock.now().getTime() - this.lastSuccessAt;
  }

  /**
   * Resolves true once an event that arrived at `mark` may be delivered, false if the state went
   * stale (or the server stops) first. Asks for a database read when one is needed.
   */
  whenVouched(mark: ArrivalMark): Promise<boolean> {
    if (this.vouches(mark)) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiters.push({ mark, resolve });
      this.schedule(0);
    });
  }

  /** Reads revocations now (joins a read in flight). Rejects when the read fails. */
  poll(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const seq = ++this.started;
    const startedAt = this.deps.clock.now().getTime();
    const read = this.deps.load().then(() => {
      this.vouchedThrough = Math.max(this.vouchedThrough, seq);
      this.lastSuccessAt = Math.max(this.lastSuccessAt, startedAt);
    });
    this.inFlight = read.finally(() => {
      this.inFlight = null;
      this.settle();
      if (this.waiters.length > 0) this.schedule(this.deps.minPollSpacingMs);
    });
    return this.inFlight;
  }

  /**
   * Releases what can be released: waiters now vouched for (the feed came back, or a read
   * finished), and every waiter as refused once the state is stale. Called by the sweep as well.
   */
  settle(): void {
    if (this.waiters.length === 0) return;
    const stale = this.stale() || this.stopped;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (stale) waiter.resolve(false);
      else if (this.vouches(waiter.mark)) waiter.resolve(true);
      else continue;
      this.waiters.splice(i, 1);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = null;
    this.settle();
  }

  private schedule(delayMs: number): void {
    if (this.scheduled || this.inFlight || this.stopped) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = null;
      this.poll().catch((error: unknown) => this.deps.onPollError(error));
    }, delayMs);
    this.scheduled.unref();
  }
}

/** An instance whose revocation set is complete by construction (one process, in-process bus). */
export function alwaysFresh(): RevocationFreshness {
  return new RevocationFreshness({
    feedHealthy: () => true,
    load: async () => {},
    clock: systemClock,
    staleAfterMs: Number.POSITIVE_INFINITY,
    minPollSpacingMs: 0,
    onPollError: () => {},
  });
}
