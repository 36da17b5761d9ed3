import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { LocalListeners, type NoteEventBus, type NoteEventKind, type NoteEventModel } from "./note-events.js";
import type { NoteModel } from "./note-model.js";

const KINDS = new Set<NoteEventKind>(["CREATED", "UPDATED", "DELETED"]);

/**
 * Note events between instances over Redis pub/sub. Each event is delivered to this instance's
 * subscribers at once (not through Redis), and published for the others, which ignore their own.
 *
 * Pub/sub keeps nothing: while Redis is down, events still reach the subscribers of the instance
 * where the write happened, and the other instances' subscribers miss them (they are live
 * notifications, not a log: a client re-reads `notes` after a reconnect). That is logged once per
 * outage, and once more when events flow again.
 */
export class RedisNoteEventBus implements NoteEventBus {
  private readonly local = new LocalListeners();
  private readonly origin = randomUUID();
  private degraded = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly channel: string,
  ) {
    subscriber.on("message", (from: string, message: string) => {
      if (from !== this.channel) return;
      const parsed = parse(message);
      if (!parsed) {
        logger.warn("ignored a malformed note event message");
        return;
      }
      if (parsed.origin !== this.origin) this.local.emit(parsed.event);
    });
    subscriber.on("ready", () => {
      subscriber
        .subscribe(this.channel)
        .catch((error: unknown) => logger.warn({ err: error }, "note event channel subscription failed"));
    });
  }

  /** Resolves once subscribed; if Redis is away, the "ready" handler subscribes when it is back. */
  async start(): Promise<void> {
    if (this.subscriber.status !== "ready") {
      await new Promise<void>((resolve, reject) => {
        this.subscriber.once("ready", () => resolve());
        this.subscriber.once("error", reject);
      });
    }
    await this.subscriber.subscribe(this.channel);
  }

  publish(event: NoteEventModel): void {
    this.local.emit(event);
    const message = JSON.stringify({ o: this.origin, e: encode(event) });
    this.publisher.publish(this.channel, message).then(
      () => {
        if (!this.degraded) return;
        this.degraded = false;
        this.logger.info("note events reach other instances again (Redis back)");
      },
      (error: unknown) => {
        if (this.degraded) return;
        this.degraded = true;
        this.logger.warn(
          { err: error instanceof Error ? { message: error.message } : error },
          "note events not reaching other instances: Redis unavailable (this instance's subscribers still get them)",
        );
      },
    );
  }

  subscribe(listener: (event: NoteEventModel) => void): () => void {
    return this.local.add(listener);
  }

  async close(): Promise<void> {
    this.local.clear();
  }
}

function encode(event: NoteEventModel) {
  const { note } = event;
  return {
    k: event.kind,
    i: event.noteId,
    n: note
      ? { id: note.id, o: note.ownerId, t: note.title, b: note.body, c: note.createdAt.getTime() }
      : null,
  };
}

function parse(message: string): { origin: string; event: NoteEventModel } | null {
  try {
    const raw = JSON.parse(message) as { o?: unknown; e?: Record<string, unknown> };
    const e = raw.e;
    if (typeof raw.o !== "string" || !e || !KINDS.has(e.k as NoteEventKind) || typeof e.i !== "string")
      return null;
    const n = e.n as Record<string, unknown> | null;
    let note: NoteModel | null = null;
    if (n !== null) {
      if (
        typeof n?.id !== "string" ||
        typeof n.o !== "string" ||
        typeof n.t !== "string" ||
        typeof n.b !== "string" ||
        typeof n.c !== "number"
      )
        return null;
      note = { id: n.id, ownerId: n.o, title: n.t, body: n.b, createdAt: new Date(n.c) };
    }
    return { origin: raw.o, event: { kind: e.k as NoteEventKind, noteId: e.i, note } };
  } catch {
    return null;
  }
}
