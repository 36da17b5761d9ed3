import DataLoader from "dataloader";
import type { WebSocket } from "ws";
import type { Authentication } from "../../auth/authenticate.js";
import type { Viewer } from "../../auth/viewer.js";
import { ConnectionStreams, type EventBus } from "../../events/index.js";
import type { GraphQLContext, RefreshCookie, Services } from "../../graphql/context.js";
import type { RenderSharing } from "../../graphql/render-sharing.js";
import type { UserModel } from "../../users/user-model.js";
import type { RevocationFreshness } from "../revocation-freshness.js";
import type { ConnectionRegistry } from "./connection-registry.js";
import { EventByteBudget } from "./subscription-budget.js";

/** No refresh cookie travels over a WebSocket: `refresh` and `login` are HTTP operations. */
const NO_COOKIE: RefreshCookie = { read: () => null, set: () => {}, clear: () => {} };

export interface LiveConnectionDeps {
  readonly registry: ConnectionRegistry;
  readonly services: Services;
  /** The database modules share (HoldfastContext.database). */
  readonly database: GraphQLContext["database"];
  readonly events: EventBus;
  readonly maxQueuedEvents: number;
  readonly maxBufferedBytes: number;
  /** Step-up rules (RFC 9470) read the same window and clock as over HTTP. */
  readonly stepUp: GraphQLContext["stepUp"];
  /** Whether a logout could have been missed here: events wait until it could not (issue 25). */
  readonly freshness: RevocationFreshness;
  /** Live data with a budget (issue 27): subscription cost per connection and per user, bytes per event. */
  readonly budget: { costPerConnection: number; costPerUser: number; maxEventBytes: number };
}

// One user loader per event, shared by every subscriber: an owner is fetched once per event,
// not once per subscriber (what a user row says does not depend on who reads it; the permission
// map decides per field and per viewer).
const eventLoaders = new WeakMap<object, DataLoader<string, UserModel | null>>();

/**
 * One WebSocket: who it speaks for now (the viewer is replaced by an in-band renewal), the event
 * queues of its subscriptions, and how it ends. Closing is immediate on this side: queues are
 * dropped at once, whatever the peer does with the close frame.
 */
export class LiveConnection {
  viewer: Viewer | null = null;
  proofJkt: string | null = null;
  private readonly streams: ConnectionStreams;
  private closed = false;
  /** Cost of each running subscription, by id; charged to the user it was reserved for. */
  private readonly costs = new Map<string, { cost: number; userId: string | null }>();
  private cost = 0;
  readonly eventBytes: EventByteBudget;
  /** The viewer's part of render keys, for the viewer they were made from (renderKey). */
  private renderKeys: { of: Viewer | null; keys: Record<RenderSharing, string> } | null = null;

  constructor(
    readonly socket: WebSocket,
    readonly address: string,
    readonly userAgent: string | null,
    private readonly deps: LiveConnectionDeps,
  ) {
    // Any topic, any module: one queue per subscription, one slow-consumer rule for all.
    this.streams = new ConnectionStreams(deps.events, {
      maxQueuedEvents: deps.maxQueuedEvents,
      onOverflow: () => this.close(1008, "slow_consumer"),
    });
    this.eventBytes = new EventByteBudget(deps.budget.maxEventBytes);
  }

  /**
   * Holds `cost` for subscription `id` if the connection's and its user's budgets allow it, and
   * says which one refuses otherwise. A renewal keeps the session, and so the user.
   */
  reserve(id: string, cost: number): "connection" | "user" | null {
    const { budget, registry } = this.deps;
    if (this.cost + cost > budget.costPerConnection) return "connection";
    const userId = this.viewer?.userId ?? null;
    if (userId && registry.userCost(userId) + cost > budget.costPerUser) return "user";
    this.costs.set(id, { cost, userId });
    this.cost += cost;
    if (userId) registry.chargeUser(userId, cost);
    return null;
  }

  /** Subscription `id` ended: its cost is free again. */
  release(id: string): void {
    const held = this.costs.get(id);
    this.eventBytes.forget(id);
    if (!held) return;
    this.costs.delete(id);
    this.cost -= held.cost;
    if (held.userId) this.deps.registry.chargeUser(held.userId, -held.cost);
  }

  private releaseAll(): void {
    for (const id of [...this.costs.keys()]) this.release(id);
  }

  get streamCount(): number {
    return this.streams.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The viewer of a connection_init or of a renewal (same session, checked by the caller). */
  authenticated(authentication: Authentication): void {
    const first = this.viewer === null;
    this.viewer = authentication.viewer;
    this.proofJkt = authentication.proofJkt;
    this.renderKeys = null;
    if (first && this.viewer) this.deps.registry.bind(this, this.viewer.sessionId);
  }

  /**
   * A fresh context for one event (or for the start of a stream): the viewer as it is now, and
   * graphql-shield's per-request cache empty, so a renewal that narrowed the scopes applies to
   * the next event.
   */
  context(event?: unknown): GraphQLContext {
    // A payload is a frozen JSON value shared by every subscriber (src/events): objects key the cache.
    const shared = typeof event === "object" && event !== null ? event : undefined;
    let loader = shared ? eventLoaders.get(shared) : undefined;
    if (!loader) {
      loader = new DataLoader((ids: readonly string[]) => this.deps.services.users.findManyByIds(ids));
      if (shared) eventLoaders.set(shared, loader);
    }
    return {
      viewer: this.viewer,
      proofJkt: this.proofJkt,
      client: { ip: this.address, userAgent: this.userAgent },
      services: this.deps.services,
      refreshCookie: NO_COOKIE,
      loaders: { user: loader },
      users: loader,
      events: this.streams.events,
      stepUp: this.deps.stepUp,
      database: this.deps.database,
      clock: this.deps.stepUp.clock,
    };
  }

  /**
   * The viewer facts a shared rendering must agree on (render-sharing.ts), as they are now: read
   * for every event, so a renewal's new scopes take effect at the next one. `viewer` names every
   * fact a resolver could read from this connection's context: the token, its session, its proof
   * key, the client's address and agent; only the event streams, which no rendering reads, differ.
   */
  renderKey(sharing: RenderSharing): string {
    if (this.renderKeys?.of !== this.viewer) this.renderKeys = { of: this.viewer, keys: this.keysFor() };
    return this.renderKeys.keys[sharing];
  }

  private keysFor(): Record<RenderSharing, string> {
    const viewer = this.viewer;
    const scopes = viewer ? [...viewer.scopes].sort().join(" ") : null;
    const whole = JSON.stringify([
      viewer && [viewer.userId, viewer.sessionId, viewer.tokenId, viewer.expiresAt, viewer.jkt],
      viewer?.authentication ?? null,
      scopes,
      this.proofJkt,
      this.address,
      this.userAgent,
    ]);
    return {
      scopes: JSON.stringify(["s", scopes]),
      user: JSON.stringify(["u", viewer?.userId ?? null, scopes]),
      viewer: `v${whole}`,
    };
  }

  /**
   * Whether an event that arrived now may be sent: `true` at once while the revocation state is
   * vouched for, else a promise settled after a database read that started after the event
   * (a logout it finds closes this connection first, 4401) — false when the connection ended or
   * the state went stale. Anonymous connections have no session to miss the end of.
   */
  admit(): true | Promise<boolean> {
    const { freshness } = this.deps;
    if (!this.viewer) return true;
    const mark = freshness.mark();
    if (freshness.vouches(mark)) return true;
    return freshness.whenVouched(mark).then((vouched) => vouched && !this.closed);
  }

  /** Sends unless the peer has stopped reading: past the bound, the connection ends instead. */
  send(data: string): Promise<void> {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return Promise.resolve();
    if (this.socket.bufferedAmount > this.deps.maxBufferedBytes) {
      this.close(1008, "slow_consumer");
      return Promise.resolve();
    }
    const bounded = this.eventBytes.bound(data);
    return new Promise((resolve) => {
      // A failed write ends the socket, which ends the connection ('close'): nothing to report here.
      this.socket.send(bounded, () => resolve());
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.streams.endAll();
    this.releaseAll();
    this.deps.registry.remove(this);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** The peer went away (or the close handshake finished). */
  ended(): void {
    this.closed = true;
    this.streams.endAll();
    this.releaseAll();
    this.deps.registry.remove(this);
  }
}
