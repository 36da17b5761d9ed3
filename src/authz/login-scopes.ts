import { BadUserInputError } from "../errors/app-error.js";
import type { Role } from "../roles.js";
import type { ScopeCatalogue } from "./scope-catalogue.js";

/** What a new session may carry: decided here, once, for register and login alike. */
export type LoginScopes = (role: Role, requested?: readonly string[] | null) => string[];

/**
 * The scopes a session starts with: everything the catalogue grants the role at login, or the
 * subset the caller asked for (login's `scopes`). Asking for a scope the role is not granted is an
 * input error, never a silent narrowing, so a client learns at once that its request cannot be met.
 */
export const scopesAtLogin =
  (catalogue: ScopeCatalogue): LoginScopes =>
  (role, requested) => {
    const granted = catalogue.grantedAtLogin(role);
    if (requested == null) return granted;
    const unknown = requested.filter((s) => !granted.includes(s));
    if (unknown.length > 0) {
      throw new BadUserInputError(
        "invalid_scope",
        `Scopes not granted to this account: ${unknown.join(", ")}`,
        "scopes",
      );
    }
    return [...new Set(requested)];
  };
