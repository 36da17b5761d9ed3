import { type JWTVerifyGetKey, jwtVerify } from "jose";

/** CAEP session-revoked, as Holdfast publishes it (RFC 8417 SET, `typ: secevent+jwt`). */
export const SESSION_REVOKED_EVENT = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/** What a Redis subscriber needs: ioredis fits, or any client with the same three calls. */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "end" | "error" | "close", listener: (...args: unknown[]) => void): unknown;
  readonly status?: string;
  disconnect(): void;
}

export interface RevocationFeedOptions {
  /** The Redis that Holdfast's instances share (`REDIS_URL`), or a subscriber connection you made. */
  readonly redis?: { readonly url: string } | { readonly subscriber: RedisSubscriberLike };
  /** `<REDIS_KEY_PREFIX>security-events`; default `holdfast:security-events`. */
  readonly channel?: string;
  /** Polling `GET /oauth/revoked-sessions` with an introspection client's credentials. */
  readonly poll?: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** Default `<issuer>/oauth/revoked-sessions`. */
    readonly url?: string;
    /** How often while the Redis feed is not delivering (default 5 s): the revocation bound then. */
    readonly intervalSeconds?: number;
    /** How often while it is (a safety net for messages lost in a partition; default 60 s). */
    readonly healthyIntervalSeconds?: number;
  };
}

export interface RevocationStateDeps {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly keys: JWTVerifyGetKey;
  readonly fetch: typeof fetch;
  readonly nowMs: () => number;
  readonly onError: (error: unknown, context: string) => void;
  /**
   * Added to each revocation's `tokens_expire_by` (which already holds Holdfast's clock tolerance):
   * this verifier's own tolerance, so a token it would still accept past `exp` stays refused.
   */
  readonly extraRetentionMs?: number;
}

type IoredisModule = { readonly Redis: typeof import("ioredis").Redis };

/** start() could not establish any way to learn revocations: the verifier must not serve blind. */
export class RevocationFeedError extends Error {
  override readonly name = "RevocationFeedError";
}

/**
 * Revoked Holdfast sessions, kept in memory until their last token expires. Fed by the signed SETs on
 * Holdfast's Redis feed (within milliseconds), and by polling the revoked-session list when Redis is
 * not configured or not delivering (within the poll interval).
 */
export class RevocationState {
  readonly #until = new Map<string, number>();
  readonly #deps: RevocationStateDeps;
  readonly #options: RevocationFeedOptions;
  #subscriber: RedisSubscriberLike | null = null;
  #ownsSubscriber = false;
  #subscribed = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  /** When the state was last known complete (a successful poll, or while subscribed). */
  #lastSyncMs: number | null = null;
  /** When the feed was last seen delivering. */
  #lastFeedMs: number | null = null;

  constructor(deps: RevocationStateDeps, options: RevocationFeedOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  isRevoked(sessionId: string): boolean {
    const until = this.#until.get(sessionId);
    if (until === undefined) return false;
    if (until > this.#deps.nowMs()) return true;
    this.#until.delete(sessionId);
    return false;
  }

  /** How old the revocation state may be (ms): 0 while the feed delivers, else since the last poll. */
  stalenessMs(): number | null {
    const now = this.#deps.nowMs();
    if (this.#subscribed && this.#subscriberReady()) {
      this.#lastFeedMs = now;
      return 0;
    }
    const last = Math.max(this.#lastSyncMs ?? -1, this.#lastFeedMs ?? -1);
    return last < 0 ? null : now - last;
  }

  get feedHealthy(): boolean {
    return this.#subscribed && this.#subscriberReady();
  }

  /**
   * Connects the feed and runs the first poll. Fails closed: rejects (RevocationFeedError) when
   * revocations are configured and neither the feed nor a poll could be established, or when the
   * Redis feed is configured and `ioredis` cannot be loaded. One of the two is enough to start.
   */
  async start(): Promise<void> {
    const { redis, poll } = this.#options;
    const feed = redis ? this.#startFeed() : Promise.resolve(null);
    const polled = poll
      ? this.#pollOnce(poll).then(
          () => null,
          (error: unknown) => error,
        )
      : Promise.resolve(null);
    const [feedError, pollError] = await Promise.all([feed, polled]);
    if (poll) this.#schedulePoll();
    if (feedError instanceof RevocationFeedError) throw feedError;
    const feedUp = redis !== undefined && feedError === null;
    const pollUp = poll !== undefined && pollError === null;
    if (feedError) this.#deps.onError(feedError, "subscribe");
    if (pollError) this.#deps.onError(pollError, "poll");
    if ((redis || poll) && !feedUp && !pollUp) {
      await this.close();
      const reasons = [feedError, pollError]
        .filter(Boolean)
        .map((e) => (e instanceof Error ? e.message : String(e)));
      throw new RevocationFeedError(
        `Holdfast revocations cannot be followed (${reasons.join("; ")}): refusing to start blind`,
      );
    }
  }

  /** Subscribes, waiting up to 3 s; null once subscribed, else why not (it goes on in the background). */
  async #startFeed(): Promise<unknown> {
    let module: IoredisModule | null = null;
    if (this.#options.redis && !("subscriber" in this.#options.redis)) {
      try {
        module = await import("ioredis");
      } catch {
        return new RevocationFeedError(
          "revocations.redis is configured but the optional dependency ioredis cannot be loaded: install it (npm install ioredis) or pass a subscriber",
        );
      }
    }
    const subscribed = this.#subscribe(module).then(
      () => null,
      (error: unknown) => error,
    );
    const timeout = new Promise((resolve) => {
      setTimeout(() => resolve(new Error("the Redis feed did not answer within 3 s")), 3000).unref?.();
    });
    return Promise.race([subscribed, timeout]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#subscriber && this.#ownsSubscriber) this.#subscriber.disconnect();
  }

  /** Adds one signed SET; false when it does not verify or is not a session-revoked event. */
  async acceptSet(set: string): Promise<boolean> {
    try {
      const { payload } = await jwtVerify(set, this.#deps.keys, {
        issuer: this.#deps.issuer,
        audience: this.#deps.audience,
        algorithms: [...this.#deps.algorithms],
        typ: "secevent+jwt",
      });
      const event = (payload.events as Record<string, { tokens_expire_by?: unknown }> | undefined)?.[
        SESSION_REVOKED_EVENT
      ];
      const subject = payload.sub_id as { format?: unknown; id?: unknown } | undefined;
      if (!event || subject?.format !== "opaque" || typeof subject.id !== "string") return false;
      const until = typeof event.tokens_expire_by === "number" ? event.tokens_expire_by * 1000 : null;
      this.#add(subject.id, until ?? this.#deps.nowMs() + 3600_000);
      return true;
    } catch (error) {
      this.#deps.onError(error, "security event refused");
      return false;
    }
  }

  #add(sessionId: string, untilMs: number): void {
    const kept = untilMs + (this.#deps.extraRetentionMs ?? 0);
    this.#until.set(sessionId, Math.max(this.#until.get(sessionId) ?? 0, kept));
  }

  #subscriberReady(): boolean {
    const status = this.#subscriber?.status;
    return status === undefined || status === "ready";
  }

  async #subscribe(module: IoredisModule | null): Promise<void> {
    const redis = this.#options.redis!;
    const channel = this.#options.channel ?? "holdfast:security-events";
    if ("subscriber" in redis) {
      this.#subscriber = redis.subscriber;
    } else {
      // Optional peer dependency: only services that use the Redis feed install ioredis.
      const { Redis } = module ?? (await import("ioredis"));
      const own = new Redis(redis.url, {
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        commandTimeout: 2000,
        retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      });
      // A Redis that hangs keeps the connection "ready" and silent: a heartbeat PING (allowed while
      // subscribed) drops it, so the feed counts as down and polling takes over at its short interval.
      this.#heartbeat = setInterval(() => {
        if (own.status === "ready") own.ping().catch(() => own.disconnect(true));
      }, 5000);
      this.#heartbeat.unref?.();
      this.#subscriber = own as unknown as RedisSubscriberLike;
      this.#ownsSubscriber = true;
    }
    const subscriber = this.#subscriber;
    subscriber.on("message", (from, message) => {
      if (from === channel) void this.acceptSet(message);
    });
    subscriber.on("error", (error) => this.#deps.onError(error, "redis"));
    // After an outage: subscribe again, then poll at once for what the channel did not keep.
    subscriber.on("ready", () => {
      if (this.#closed || !this.#subscribed) return;
      subscriber.subscribe(channel).then(
        () => this.#pollSoon(),
        (error) => this.#deps.onError(error, "resubscribe"),
      );
    });
    await subscriber.subscribe(channel);
    this.#subscribed = true;
  }

  #pollSoon(): void {
    if (!this.#options.poll || this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    void this.#pollLoop();
  }

  async #pollLoop(): Promise<void> {
    const poll = this.#options.poll!;
    await this.#pollOnce(poll).catch((error) => this.#deps.onError(error, "poll"));
    this.#schedulePoll();
  }

  #schedulePoll(): void {
    const poll = this.#options.poll!;
    if (this.#closed) return;
    const seconds = this.feedHealthy ? (poll.healthyIntervalSeconds ?? 60) : (poll.intervalSeconds ?? 5);
    this.#timer = setTimeout(() => void this.#pollLoop(), seconds * 1000);
    this.#timer.unref?.();
  }

  async #pollOnce(poll: NonNullable<RevocationFeedOptions["poll"]>): Promise<void> {
    const url = poll.url ?? `${this.#deps.issuer.replace(/\/+$/, "")}/oauth/revoked-sessions`;
    const startedMs = this.#deps.nowMs();
    const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
    const response = await this.#deps.fetch(url, {
      headers: {
        authorization: `Basic ${btoa(`${encode(poll.clientId)}:${encode(poll.clientSecret)}`)}`,
        accept: "application/json",
      },
    });
    if (!response.ok) throw new Error(`revoked-sessions answered HTTP ${response.status}`);
    const body = (await response.json()) as { revoked?: { sid?: unknown; tokens_expire_by?: unknown }[] };
    for (const entry of body.revoked ?? []) {
      if (typeof entry.sid === "string" && typeof entry.tokens_expire_by === "number")
        this.#add(entry.sid, entry.tokens_expire_by * 1000);
    }
    this.#lastSyncMs = startedMs;
  }
}
