import { ownerOr, parent } from "../../index.js";
import type { NoteModel } from "./note-model.js";

/**
 * The nested types, in the TypeScript map (the alternative to directives): whoever reached a note
 * reads its title and metadata; its body needs its owner (with `notes:read`) or `notes:read:any`.
 */
export const notesPermissions = {
  Note: {
    id: parent,
    title: parent,
    createdAt: parent,
    owner: parent,
    // A token narrowed to notes:write alone must not read bodies back through a mutation's answer.
    body: ownerOr<NoteModel>({
      label: "owner",
      ownerId: (note) => note.ownerId,
      ownerNeeds: [["notes:read"]],
      anyOf: [["notes:read:any"]],
    }),
  },
  NoteEdge: { cursor: parent, node: parent },
  NoteConnection: { edges: parent, pageInfo: parent },
  // Events are authorized like `notes`: the root rule when the stream starts and again for every
  // event with the viewer at delivery; `note` and its fields by the Note rules (body per field).
  NoteEvent: { kind: parent, noteId: parent, note: parent },
};
