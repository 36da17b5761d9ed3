import { requireViewer } from "../context.js";
import type { MutationResolvers, NoteResolvers, QueryResolvers } from "../generated/resolvers-types.js";

export const noteQueries: Pick<QueryResolvers, "note" | "notes"> = {
  note: (_parent, { id }, { services }) => services.notes.findById(id),
  notes: (_parent, { first, after }, { services }) => services.notes.list(first, after),
};

export const noteMutations: Pick<MutationResolvers, "createNote" | "updateNote" | "deleteNote"> = {
  createNote: (_parent, { input }, context) =>
    context.services.notes.create(requireViewer(context).userId, input),
  updateNote: (_parent, { id, input }, context) =>
    context.services.notes.update(requireViewer(context).userId, id, input),
  deleteNote: (_parent, { id }, context) => context.services.notes.delete(requireViewer(context).userId, id),
};

export const Note: NoteResolvers = {
  // The owner's other fields load (batched) only if asked for.
  owner: (note) => ({ id: note.ownerId }),
};
