import type { NoteModel } from "./note-model.js";

export type NoteEventKind = "CREATED" | "UPDATED" | "DELETED";

/** The event bus topic of note writes (src/events): what `noteEvents` subscribes to. */
export const NOTES_TOPIC = "notes";

/** What `noteEvents` delivers: the note as written (null once deleted). */
export interface NoteEventModel {
  readonly kind: NoteEventKind;
  readonly noteId: string;
  readonly note: NoteModel | null;
}

/** A NoteEventModel as the bus delivers it: JSON, so the note's date is an ISO string. */
export interface NoteEventPayload {
  readonly kind: NoteEventKind;
  readonly noteId: string;
  readonly note: (Omit<NoteModel, "createdAt"> & { readonly createdAt: string }) | null;
}

/** Back to the model the Note resolvers read (a Date for `createdAt`). */
export function reviveNoteEvent(payload: NoteEventPayload): NoteEventModel {
  const { note } = payload;
  return { ...payload, note: note ? { ...note, createdAt: new Date(note.createdAt) } : null };
}
