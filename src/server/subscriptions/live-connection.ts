import DataLoader from "dataloader";
import type { WebSocket } from "ws";
import type { Authentication } from "../../auth/authenticate.js";
import type { Viewer } from "../../auth/viewer.js";
import type { GraphQLContext, RefreshCookie, Services } from "../../graphql/context.js";
import type { LiveStreams } from "../../graphql/live.js";
import type { NoteEventBus, NoteEventModel } from "../../notes/note-events.js";
import type { UserModel } from "../../users/user-model.js";
import type { ConnectionRegistry } from "./connection-registry.js";
import { EventQueue } from "./event-queue.js";

/** No refresh cookie travels over a WebSocket: `refresh` and `login` are HTTP operations. */
const NO_COOKIE: RefreshCookie = { read: () => null, set: () => {}, clear: () => {} };

export interface LiveConnectionDeps {
  readonly registry: ConnectionRegistry;
  readonly services: Services;
  readonly noteEvents: NoteEventBus;
  readonly maxQueuedEvents: number;
  readonly maxBufferedBytes: number;
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
  private readonly queues = new Set<EventQueue<NoteEventModel>>();
  private closed = false;

  readonly streams: LiveStreams = {
    noteEvents: () => {
      let stop: () => void = () => {};
      const queue: EventQueue<NoteEventModel> = new EventQueue(
        this.deps.maxQueuedEvents,
        () => this.close(1008, "slow_consumer"),
        () => {
          stop();
          this.queues.delete(queue);
        },
      );
      if (this.closed) {
        queue.end();
        return queue;
      }
      this.queues.add(queue);
      stop = this.deps.noteEvents.subscribe((event) => queue.push(event));
      return queue;
    },
  };

  constructor(
    readonly socket: WebSocket,
    readonly address: string,
    readonly userAgent: string | null,
    private readonly deps: LiveConnectionDeps,
  ) {}

  get streamCount(): number {
    return this.queues.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The viewer of a connection_init or of a renewal (same session, checked by the caller). */
  authenticated(authentication: Authentication): void {
    const first = this.viewer === null;
    this.viewer = authentication.viewer;
    this.proofJkt = authentication.proofJkt;
    if (first && this.viewer) this.deps.registry.bind(this, this.viewer.sessionId);
  }

  /**
   * A fresh context for one event (or for the start of a stream): the viewer as it is now, and
   * graphql-shield's per-request cache empty, so a renewal that narrowed the scopes applies to
   * the next event.
   */
  context(event?: NoteEventModel): GraphQLContext {
    let loader = event ? eventLoaders.get(event) : undefined;
    if (!loader) {
      loader = new DataLoader((ids: readonly string[]) => this.deps.services.users.findManyByIds(ids));
      if (event) eventLoaders.set(event, loader);
    }
    return {
      viewer: this.viewer,
      proofJkt: this.proofJkt,
      client: { ip: this.address, userAgent: this.userAgent },
      services: this.deps.services,
      refreshCookie: NO_COOKIE,
      loaders: { user: loader },
      live: this.streams,
    };
  }

  /** Sends unless the peer has stopped reading: past the bound, the connection ends instead. */
  send(data: string): Promise<void> {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return Promise.resolve();
    if (this.socket.bufferedAmount > this.deps.maxBufferedBytes) {
      this.close(1008, "slow_consumer");
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // A failed write ends the socket, which ends the connection ('close'): nothing to report here.
      this.socket.send(data, () => resolve());
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const queue of [...this.queues]) queue.end();
    this.deps.registry.remove(this);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** The peer went away (or the close handshake finished). */
  ended(): void {
    this.closed = true;
    for (const queue of [...this.queues]) queue.end();
    this.deps.registry.remove(this);
  }
}
