import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Revocation, RevocationBus } from "./revocation.js";

/**
 * Revocations over Redis pub/sub: a logout on one instance reaches every other instance's
 * in-memory set within milliseconds. Redis keeps nothing here — the database is the record — so a
 * message missed while Redis was away is recovered by reloading recent revocations from the
 * database (`onResync`), which the caller also does on a timer while the bus is down.
 */
export class RedisRevocationBus implements RevocationBus {
  private readonly listeners: ((r: readonly Revocation[]) => void)[] = [];
  private readonly resyncListeners: (() => void)[] = [];
  private started = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly channel = "holdfast:revocations",
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const revocations = parse(message);
      if (!revocations) {
        logger.warn("ignored a malformed revocation message");
        return;
      }
      for (const listener of this.listeners) listener(revocations);
    });
    // After an outage (or a start without Redis): subscribe again, then catch up on what was
    // published meanwhile, since pub/sub does not keep messages.
    subscriber.on("ready", () => {
      if (!this.started) return;
      subscriber.subscribe(this.channel).then(
        () => {
          for (const listener of this.resyncListeners) listener();
        },
        (error: unknown) => logger.warn({ err: error }, "revocation channel subscription failed"),
      );
    });
  }

  /** Subscribes; rejects if Redis cannot be reached now (it is retried when Redis comes back). */
  async start(): Promise<void> {
    this.started = true;
    // The connection is still being made right after construction, and without an offline queue a
    // command sent before "ready" fails at once: wait for the connection or for its first error.
    if (this.subscriber.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        const ready = () => {
          this.subscriber.off("error", failed);
          resolve();
        };
        const failed = (error: Error) => {
          this.subscriber.off("ready", ready);
          reject(error);
        };
        this.subscriber.once("ready", ready);
        this.subscriber.once("error", failed);
      });
    }
    await this.subscriber.subscribe(this.channel);
  }

  get healthy(): boolean {
    return this.publisher.status === "ready" && this.subscriber.status === "ready";
  }

  async publish(revocations: readonly Revocation[]): Promise<void> {
    const message = JSON.stringify(revocations.map((r) => ({ s: r.sessionId, u: r.until.getTime() })));
    try {
      await this.publisher.publish(this.channel, message);
    } catch (error) {
      // The revocation is committed in the database; other instances pick it up by polling.
      this.logger.warn(
        { err: error },
        "revocation not broadcast: Redis unavailable, instances fall back to polling",
      );
    }
  }

  subscribe(listener: (revocations: readonly Revocation[]) => void): void {
    this.listeners.push(listener);
  }

  /** Called when the subscription comes back after an outage. */
  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
    this.resyncListeners.length = 0;
  }
}

function parse(message: string): Revocation[] | null {
  try {
    const raw: unknown = JSON.parse(message);
    if (!Array.isArray(raw)) return null;
    const out: Revocation[] = [];
    for (const item of raw) {
      if (typeof item?.s !== "string" || typeof item?.u !== "number") return null;
      out.push({ sessionId: item.s, until: new Date(item.u) });
    }
    return out;
  } catch {
    return null;
  }
}
