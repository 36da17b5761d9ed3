// The modules `npm start` composes (src/main.ts): tests of the demo domain compose the same.
import { composeSchema } from "../../src/graphql/schema.js";
import { type NoteModel, notes, notesService } from "../../src/modules/notes/index.js";
import type { HoldfastServer } from "../../src/server/create-server.js";

export const DEMO_MODULES = [notes] as const;

const composed = composeSchema({ modules: DEMO_MODULES });

/** The scope catalogue of the core with the demo modules. */
export const demoCatalogue = composed.catalogue;

/** The composed schema `npm start` serves, and every field's rule (maps and directives). */
export const demoSchema = composed.schema;
export const demoPermissions = composed.permissions.map;

/** The notes service of a running test server (seeding, reading rows back). */
export function notesOf(server: Pick<HoldfastServer, "database">) {
  return notesService({ database: server.database.driver });
}

export type { NoteModel };
