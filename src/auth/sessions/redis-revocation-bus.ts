import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Revocation, RevocationBus } from "./revocation.js";
import type { RevocationChannelSigner } from "./revocation-channel-signer.js";

/** Revocations kept for publishing again after an outage, at most. */
const MAX_UNSENT = 10_000;
const UNSENT_BATCH = 500;
/** How often this instance publishes a heartbeat on the channel, and how late its echo may come. */
export const HEARTBEAT_INTERVAL_MS = 250;
export const HEARTBEAT_BOUND_MS = 1000;
/** Refused messages are logged at most this often (a flood of them must not flood the log). */
const REJECTED_LOG_INTERVAL_MS = 60_000;
/** An unsigned revocation asks for a database read at most this often. */
const READ_CUE_INTERVAL_MS = 1000;

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
 *
 * Every message is signed (RevocationChannelSigner) and one that is not, or is signed wrongly, is
 * ignored and counted (`rejectedMessages`, in /readyz; a warning at most once a minute): whoever can
 * write to Redis cannot lock a session out. A heartbeat carries a sequence number and counts only as
 * the echo of one this instance sent within the bound, once, and for when it was *sent*: a replayed
 * heartbeat cannot keep a stalled feed looking healthy (and so stop the database polling).
 * Old instances during a rolling deploy publish unsigned revocations: their content is ignored, but
 * each is taken as a cue to read the database now (at most once a second), which is the record —
 * so a logout on an old instance still reaches new ones in about a second, and a forgery costs one read.
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
  /** performance.now() when the newest heartbeat that came back was sent; -Infinity before. */
  private lastEcho = Number.NEGATIVE_INFINITY;
  private heartbeatSeq = 0;
  /** Heartbeats sent and not yet back, by sequence number: when each was sent. */
  private readonly pendingHeartbeats = new Map<number, number>();
  private rejected = 0;
  private rejectedSinceLog = 0;
  private lastRejectedLog = Number.NEGATIVE_INFINITY;
  private lastReadCue = Number.NEGATIVE_INFINITY;
  private feedHealthy = false;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly signer: RevocationChannelSigner,
    private readonly channel = "holdfast:revocations",
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
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

  private receive(message: string): void {
    const heartbeat = parseHeartbeat(message);
    if (heartbeat !== null) {
      if (!this.signer.verify("heartbeat", `${heartbeat.id}.${heartbeat.seq}`, heartbeat.mac)) {
        this.reject("heartbeat not signed with the channel key");
        return;
      }
      if (heartbeat.id === this.instanceId) this.echo(heartbeat.seq);
      this.checkFeed();
      return;
    }
    const signed = parseRevocations(message);
    if (!signed) {
      this.reject("malformed message");
      return;
    }
    if (!this.signer.verify("revocations", JSON.stringify(signed.items), signed.mac)) {
      this.reject("revocation not signed with the channel key");
      this.cueDatabaseRead();
      return;
    }
    const revocations = signed.items.map((item) => ({ sessionId: item.s, until: new Date(item.u) }));
    for (const listener of this.listeners) listener(revocations);
  }

  /** A heartbeat of this instance came back: it counts once, for when it was sent. */
  private echo(seq: number): void {
    const sentAt = this.pendingHeartbeats.get(seq);
    // Unknown: already counted (a replay), or sent so long ago that it was forgotten.
    if (sentAt === undefined) return;
    this.pendingHeartbeats.delete(seq);
    this.lastEcho = Math.max(this.lastEcho, sentAt);
  }

  /** How many messages on the channel were refused (unsigned, wrongly signed, malformed) since start. */
  get rejectedMessages(): number {
    return this.rejected;
  }

  private reject(reason: string): void {
    this.rejected++;
    this.rejectedSinceLog++;
    const now = performance.now();
    if (now - this.lastRejectedLog < REJECTED_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { reason, count: this.rejectedSinceLog, total: this.rejected },
      "ignored messages on the revocation channel that are not signed with REVOCATION_CHANNEL_SECRET (an instance of an older release or with another secret, or someone else writing to Redis); logged at most once a minute",
    );
    this.lastRejectedLog = now;
    this.rejectedSinceLog = 0;
  }

  /** An unsigned revocation may be an older instance's real one: read the record, rate-limited. */
  private cueDatabaseRead(): void {
    const now = performance.now();
    if (now - this.lastReadCue < READ_CUE_INTERVAL_MS) return;
    this.lastReadCue = now;
    for (const listener of this.resyncListeners) listener();
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
      const now = performance.now();
      // Forget heartbeats older than the bound: their echo could no longer make the feed healthy.
      for (const [seq, sentAt] of this.pendingHeartbeats) {
        if (now - sentAt <= HEARTBEAT_BOUND_MS) break;
        this.pendingHeartbeats.delete(seq);
      }
      const seq = ++this.heartbeatSeq;
      this.pendingHeartbeats.set(seq, now);
      const mac = this.signer.sign("heartbeat", `${this.instanceId}.${seq}`);
      // Not awaited: a paused Redis holds it, which is what the echo's absence reports.
      this.publisher
        .publish(this.channel, JSON.stringify({ h: this.instanceId, n: seq, m: mac }))
        .catch(() => {});
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
    if (revocations.length === 0) return;
    await this.publisher.publish(this.channel, signedRevocationMessage(this.signer, revocations));
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

/**
 * `[{"s":"<session>","u":<until ms>,"m":"<mac>"},{"s":…,"u":…},…]`. The signature rides on the
 * first item, where an older release's parser ignores it: during a rolling deploy old instances
 * still take new instances' revocations.
 */
export function signedRevocationMessage(
  signer: RevocationChannelSigner,
  revocations: readonly Revocation[],
): string {
  const items = revocations.map((r) => ({ s: r.sessionId, u: r.until.getTime() }));
  const mac = signer.sign("revocations", JSON.stringify(items));
  return JSON.stringify(items.map((item, i) => (i === 0 ? { ...item, m: mac } : item)));
}

interface Heartbeat {
  readonly id: string;
  readonly seq: number;
  readonly mac: unknown;
}

/** A heartbeat message (`{"h":"<instance>","n":<seq>,"m":"<mac>"}`), or null for any other message. */
function parseHeartbeat(message: string): Heartbeat | null {
  if (!message.startsWith('{"h":')) return null;
  try {
    const raw = JSON.parse(message) as { h?: unknown; n?: unknown; m?: unknown };
    if (typeof raw.h !== "string") return null;
    // An older release's heartbeat has no sequence number: it fails the signature check.
    return { id: raw.h, seq: Number.isSafeInteger(raw.n) ? (raw.n as number) : -1, mac: raw.m };
  } catch {
    return null;
  }
}

interface SignedRevocations {
  /** The items as signed: `{ s, u }` in that order. */
  readonly items: { s: string; u: number }[];
  readonly mac: unknown;
}

/** `[{"s":"<session>","u":<until ms>,"m":"<mac>"},{"s":…,"u":…},…]`, or null when malformed. */
function parseRevocations(message: string): SignedRevocations | null {
  try {
    const raw: unknown = JSON.parse(message);
    if (!Array.isArray(raw) || raw.length === 0) return null;
    const items: { s: string; u: number }[] = [];
    for (const item of raw) {
      if (typeof item?.s !== "string" || !Number.isSafeInteger(item?.u)) return null;
      items.push({ s: item.s, u: item.u });
    }
    return { items, mac: (raw[0] as { m?: unknown }).m };
  } catch {
    return null;
  }
}
