import type { Clock } from "../../clock.js";

/**
 * Revoked session ids, held in memory so that every request checks its `sid` in O(1) without a
 * database read. An entry only needs to live as long as an access token of that session could:
 * after that the token has expired on its own.
 */
export class RevocationSet {
  private readonly until = new Map<string, number>();
  private lastSweep = 0;
  private readonly listeners: ((sessionId: string) => void)[] = [];

  /**
   * `minimumLifetimeMs`: how long, on this instance's clock, an entry lives at least from when it
   * arrives. A revocation's `until` was computed on the revoking instance's clock; when that clock
   * runs behind this one, the entry would end here before the tokens it refuses (their `exp` comes
   * from the issuing instance's clock). Counted here from arrival, it lasts a token's lifetime plus
   * twice the tolerance: a token this instance accepts has `iat` at most one tolerance ahead of it,
   * and is accepted until one tolerance past its `exp`. Keeping a revoked session longer is safe.
   */
  constructor(
    private readonly clock: Clock,
    private readonly minimumLifetimeMs = 0,
  ) {}

  add(sessionId: string, until: Date): void {
    const previous = this.until.get(sessionId) ?? 0;
    const arrivedPlusLifetime = this.clock.now().getTime() + this.minimumLifetimeMs;
    this.until.set(sessionId, Math.max(previous, until.getTime(), arrivedPlusLifetime));
    for (const listener of this.listeners) listener(sessionId);
  }

  /**
   * Called for every revocation added, however it arrived (this instance, the bus, polling):
   * what holds a session open beyond one request (a WebSocket) ends with it.
   */
  onAdd(listener: (sessionId: string) => void): void {
    this.listeners.push(listener);
  }

  has(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    if (until === undefined) return false;
    const now = this.clock.now().getTime();
    this.sweep(now);
    return until > now;
  }

  get size(): number {
    return this.until.size;
  }

  private sweep(now: number): void {
    // At most once a second, so the check stays O(1) amortised.
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [sid, until] of this.until) if (until <= now) this.until.delete(sid);
  }
}

export interface Revocation {
  readonly sessionId: string;
  /** When the last access token of that session expires at the latest. */
  readonly until: Date;
}

/**
 * Carries revocations to every instance. The embedded default is in-process; with Redis,
 * a pub/sub implementation delivers them to the other instances within a second.
 */
export interface RevocationBus {
  publish(revocations: readonly Revocation[]): Promise<void>;
  subscribe(listener: (revocations: readonly Revocation[]) => void): void;
  close(): Promise<void>;
}

export class InProcessRevocationBus implements RevocationBus {
  private readonly listeners: ((r: readonly Revocation[]) => void)[] = [];
  async publish(revocations: readonly Revocation[]): Promise<void> {
    for (const listener of this.listeners) listener(revocations);
  }
  subscribe(listener: (revocations: readonly Revocation[]) => void): void {
    this.listeners.push(listener);
  }
  async close(): Promise<void> {
    this.listeners.length = 0;
  }
}
