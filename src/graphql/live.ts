import type { NoteEventModel } from "../notes/note-events.js";

/**
 * The event streams a WebSocket connection offers its subscriptions. Present only in a
 * subscription's context: over HTTP there is nothing to stream to.
 */
export interface LiveStreams {
  noteEvents(): AsyncIterableIterator<NoteEventModel>;
}
