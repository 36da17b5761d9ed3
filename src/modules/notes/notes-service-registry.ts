import type { HoldfastDatabase, ModuleHost } from "../../index.js";
import { NoteService } from "./note-service.js";
import { ensureNotesSchema } from "./notes-schema.js";

/**
 * One NoteService per server, keyed by the database handle the server shares with its modules: the
 * module is a value (imported once), the servers composing it are many (tests start several).
 */
const services = new WeakMap<HoldfastDatabase, NoteService>();

/** The module's setup: its table, then its service on the server's connection, clock and events. */
export async function startNotes(host: ModuleHost): Promise<void> {
  await ensureNotesSchema(host.database);
  services.set(host.database, new NoteService(host.database, host.clock, host.events));
}

/** Serves notes from another service on a database handle (the permission bench's in-memory data). */
export function useNotesService(database: HoldfastDatabase, service: NoteService): void {
  services.set(database, service);
}

/** The notes service of the server a request (or a test) belongs to. */
export function notesService(owner: { readonly database: HoldfastDatabase }): NoteService {
  const service = services.get(owner.database);
  if (!service) throw new Error("the notes module was not set up on this server");
  return service;
}
