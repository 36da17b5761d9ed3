// The demo domain as a module: written against `holdfast` (src/index.ts) alone, exactly as an
// application's module would be. `npm start` composes the core with it (src/main.ts).
import { defineModule } from "../../index.js";
import { notesPermissions } from "./notes-permissions.js";
import { startNotes } from "./notes-service-registry.js";
import { notesResolvers } from "./resolvers.js";
import { notesTypeDefs } from "./schema.js";

export const notes = defineModule({
  name: "notes",
  typeDefs: notesTypeDefs,
  resolvers: notesResolvers,
  permissions: notesPermissions,
  scopes: {
    "notes:read": { description: "Reach notes: any note's title and metadata, and the body of your own" },
    "notes:write": { description: "Create, edit and delete your own notes" },
    "notes:read:any": { description: "Read the body of any user's note", adminOnly: true },
  },
  setup: startNotes,
});

export type { NoteModel } from "./note-model.js";
export { notesService } from "./notes-service-registry.js";
