import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Revocation, RevocationBus } from "./revocation.js";

/** Revocations kept for publishing again after an outage, at most. */
const MAX_UNSENT = 10_000;
const UNSENT_BATCH = 500;
/** How often this instance publishes a heartbeat on the channel, and how late its echo may come. */
export const HEARTBEAT_INTERVAL_MS = 250;
export const HEARTBEAT_BOUND_MS = 1000;

/**
 * Revocations over Redis pub/sub: a logout on one instance reaches every other instance's
 * in-memory set within milliseconds. Redis keeps nothing here — the database is the record — so a
 * message missed while Redis was away is recovered by reloading recent revocations from the
 * database (`onResync`), which the caller also does on a timer while the bus is down.
 *
 * A revocation this instance could not publish is kept and published again as soon as its own
 * connection is back: when only this instance lost Redis (a partition), the others still look
 * healthy and do not poll, so without it they would learn of the logout only when the token expired.
 *
 * Healthy means end to end: this instance's own heartbeats, published on the channel, come back on
 * its subscription within HEARTBEAT_BOUND_MS. Connections that answer PING are not enough: a Redis
 * paused for writes (`CLIENT PAUSE … WRITE`, as during a `FAILOVER`) or a black-holed link keeps
 * them "ready" while every PUBLISH waits. When the echo is late the bus turns unhealthy at once,
 * tells the resync listeners (the caller polls the database now and on its short timer), and logs it.
 */
export class RedisRevocationBus implements RevocationBus {
  private readonly listeners: ((r: readonly Revocation[]) => void)[] = [];
  private readonly resyncListeners: (() => void)[] = [];
  private readonly unsent: Revocation[] = [];
  private started = false;
  /** The "not broadcast" warning is written once per outage, not once per logout. */
  private warnedThisOutage = false;
  /** Tells this instance's heartbeats from other instances'. */
  private readonly instanceId = randomBytes(9).toString("base64url");
  /** performance.now() when this instance last heard its own heartbeat back; -Infinity before. */
  private lastEcho = Number.NEGATIVE_INFINITY;
  private feedHealthy = false;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly channel = "holdfast:revocations",
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const heartbeat = parseHeartbeat(message);
      if (heartbeat !== null) {
        if (heartbeat === this.instanceId) this.lastEcho = performance.now();
        this.checkFeed();
        return;
      }
      const revocations = parse(message);
      if (!revocations) {
        logger.warn("ignored a malformed revocation message");
        return;
      }
      for (const listener of this.listeners) listener(revocations);
    });
    publisher.on("ready", () => {
      this.warnedThisOutage = false;
      void this.publishUnsent();
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
    this.startHeartbeat();
  }

  /** Whether revocations reach this instance over the channel now (its own heartbeats come back). */
  get healthy(): boolean {
    return (
      this.publisher.status === "ready" &&
      this.subscriber.status === "ready" &&
      performance.now() - this.lastEcho <= HEARTBEAT_BOUND_MS
    );
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    const beat = () => {
      this.checkFeed();
      // Not awaited: a paused Redis holds it, which is what the echo's absence reports.
      this.publisher.publish(this.channel, JSON.stringify({ h: this.instanceId })).catch(() => {});
    };
    this.heartbeat = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
    beat();
  }

  /** Logs and reports a change of the feed's health; turning unhealthy asks for a database read now. */
  private checkFeed(): void {
    const healthy = this.healthy;
    if (healthy === this.feedHealthy) return;
    this.feedHealthy = healthy;
    if (healthy) {
      this.logger.info("revocation feed healthy: own heartbeats come back over Redis");
    } else {
      this.logger.warn(
        { boundMs: HEARTBEAT_BOUND_MS },
        "revocation feed unhealthy: own heartbeat not back over Redis in time; polling the database",
      );
    }
    // Unhealthy: poll now. Healthy again: catch up on what the channel may have missed.
    for (const listener of this.resyncListeners) listener();
  }

  async publish(revocations: readonly Revocation[]): Promise<void> {
    try {
      await this.send(revocations);
    } catch (error) {
      // The revocation is committed in the database: instances that lost Redis poll it, and the
      // others get it from here once this instance reaches Redis again.
      this.keepUnsent(revocations);
      const facts = {
        err: error instanceof Error ? { message: error.message } : error,
        pending: this.unsent.length,
      };
      if (this.warnedThisOutage) {
        this.logger.debug(facts, "revocation not broadcast");
        return;
      }
      this.warnedThisOutage = true;
      this.logger.warn(
        facts,
        "revocation not broadcast: Redis unavailable; polling covers it, and it is sent again on reconnect (further ones are logged at debug until Redis is back)",
      );
    }
  }

  private async send(revocations: readonly Revocation[]): Promise<void> {
    const message = JSON.stringify(revocations.map((r) => ({ s: r.sessionId, u: r.until.getTime() })));
    await this.publisher.publish(this.channel, message);
    // Redis answered: the next failure belongs to a new outage.
    this.warnedThisOutage = false;
  }

  private keepUnsent(revocations: readonly Revocation[]): void {
    this.unsent.push(...revocations);
    // Bounded: past this many, the oldest go (their tokens are the nearest to expiring anyway).
    if (this.unsent.length > MAX_UNSENT) this.unsent.splice(0, this.unsent.length - MAX_UNSENT);
  }

  private async publishUnsent(): Promise<void> {
    if (this.unsent.length === 0) return;
    const batch = this.unsent.splice(0);
    try {
      for (let i = 0; i < batch.length; i += UNSENT_BATCH) await this.send(batch.slice(i, i + UNSENT_BATCH));
      this.logger.info({ count: batch.length }, "revocations broadcast after Redis came back");
    } catch {
      this.keepUnsent(batch);
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
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.listeners.length = 0;
    this.resyncListeners.length = 0;
    this.unsent.length = 0;
  }
}

/** The instance id of a heartbeat message (`{"h":"…"}`), or null for any other message. */
function parseHeartbeat(message: string): string | null {
  if (!message.startsWith('{"h":')) return null;
  try {
    const raw = JSON.parse(message) as { h?: unknown };
    return typeof raw.h === "string" ? raw.h : null;
  } catch {
    return null;
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
