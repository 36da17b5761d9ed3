import type { NoteModel } from "./note-model.js";

export type NoteEventKind = "CREATED" | "UPDATED" | "DELETED";

/** What `noteEvents` delivers: the note as written (null once deleted). */
export interface NoteEventModel {
  readonly kind: NoteEventKind;
  readonly noteId: string;
  readonly note: NoteModel | null;
}

/**
 * Carries note events to every subscriber on every instance. The embedded default is in process;
 * with Redis, a pub/sub implementation (redis-note-events.ts) carries them between instances.
 * `publish` never throws and never waits for delivery: a write must not fail because of a listener.
 */
export interface NoteEventBus {
  publish(event: NoteEventModel): void;
  /** Returns the function that stops the listener. */
  subscribe(listener: (event: NoteEventModel) => void): () => void;
  close(): Promise<void>;
}

/** Fans one event out to this process's listeners; a listener that throws does not stop the others. */
export class LocalListeners {
  private readonly listeners = new Set<(event: NoteEventModel) => void>();

  add(listener: (event: NoteEventModel) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: NoteEventModel): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener is a subscription's queue; its own failure closes its own connection.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}

export class InProcessNoteEventBus implements NoteEventBus {
  private readonly local = new LocalListeners();

  publish(event: NoteEventModel): void {
    this.local.emit(event);
  }

  subscribe(listener: (event: NoteEventModel) => void): () => void {
    return this.local.add(listener);
  }

  async close(): Promise<void> {
    this.local.clear();
  }
}
