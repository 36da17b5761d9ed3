import type { NoteFields } from "./operations.js";
import { typedDocument } from "./typed-document.js";

// Subscriptions, typed by hand against src/graphql/schema/subscriptions.graphql.

export type NoteEventKind = "CREATED" | "UPDATED" | "DELETED";

export interface NoteEventsSubscription {
  noteEvents: { kind: NoteEventKind; noteId: string; note: NoteFields | null };
}

export const NoteEventsDocument = typedDocument<NoteEventsSubscription>(
  "NoteEvents",
  "subscription NoteEvents { noteEvents { kind noteId note { id title body createdAt owner { id displayName } } } }",
);
