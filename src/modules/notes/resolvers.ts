import { type HoldfastContext, type ModuleResolvers, requireViewer } from "../../index.js";
import { NOTES_TOPIC, type NoteEventPayload, reviveNoteEvent } from "./note-events.js";
import type { NoteModel } from "./note-model.js";
import { notesService } from "./notes-service-registry.js";

type Page = { first?: number | null; after?: string | null };
type NoteInput = { title: string; body: string };
type NoteChanges = { title?: string | null; body?: string | null };

export const notesResolvers: ModuleResolvers = {
  Query: {
    note: (_parent, { id }: { id: string }, context: HoldfastContext) => notesService(context).findById(id),
    notes: (_parent, { first, after }: Page, context: HoldfastContext) =>
      notesService(context).list(first, after),
  },
  Mutation: {
    createNote: (_parent, { input }: { input: NoteInput }, context: HoldfastContext) =>
      notesService(context).create(requireViewer(context).userId, input),
    updateNote: (_parent, { id, input }: { id: string; input: NoteChanges }, context: HoldfastContext) =>
      notesService(context).update(requireViewer(context).userId, id, input),
    deleteNote: (_parent, { id }: { id: string }, context: HoldfastContext) =>
      notesService(context).delete(requireViewer(context).userId, id),
  },
  Subscription: {
    noteEvents: {
      // Authorized twice by the same rule: when the stream starts, and for every event with the
      // viewer the connection holds at delivery. Over HTTP, subscribe answers websocket_required.
      subscribe: (_parent, _args, context: HoldfastContext) =>
        context.events.subscribe<NoteEventPayload>(NOTES_TOPIC),
      resolve: (event: NoteEventPayload) => reviveNoteEvent(event),
    },
  },
  User: {
    notes: (user: { id: string }, { first, after }: Page, context: HoldfastContext) =>
      notesService(context).list(first, after, user.id),
  },
  Note: {
    // The owner's other fields load (batched) only if asked for.
    owner: (note: NoteModel) => ({ id: note.ownerId }),
  },
};
