import { type ScopeCatalogue, scopeCatalogue } from "../authz/scope-catalogue.js";
import { noteScopes } from "../notes/note-scopes.js";

/**
 * The catalogue `createServer` uses when given none: the core's scopes and the notes module's,
 * until modules are composed by the public entry.
 */
export const defaultScopeCatalogue: ScopeCatalogue = scopeCatalogue([noteScopes]);
