/**
 * The scope catalogue: every scope Holdfast knows, what it allows, and which roles grant it.
 * A token carries a subset of its user's granted scopes; the permission map (permissions.ts)
 * decides every field from them.
 */
import type { Role } from "../roles.js";

export type { Role } from "../roles.js";

export const SCOPES = {
  "notes:read": {
    description: "Reach notes: any note's title and metadata, and the body of your own",
    roles: ["user", "admin"],
  },
  "notes:write": { description: "Create, edit and delete your own notes", roles: ["user", "admin"] },
  "sessions:read": { description: "List your own sessions", roles: ["user", "admin"] },
  // Never implied by another scope: narrowToken keeps it only when asked for it by name.
  "account:manage": {
    description:
      "Act on your own account: sign out, end sessions, change the password, manage passkeys, reauthenticate",
    roles: ["user", "admin"],
  },
  "users:read": { description: "Look up and list users (the directory)", roles: ["user", "admin"] },
  "notes:read:any": { description: "Read the body of any user's note", roles: ["admin"] },
  "users:read:email": { description: "Read any user's email address", roles: ["admin"] },
  "sessions:admin": { description: "Revoke any user's session", roles: ["admin"] },
  "keys:admin": { description: "Rotate the token signing keys", roles: ["admin"] },
} as const satisfies Record<string, { description: string; roles: readonly Role[] }>;

export type Scope = keyof typeof SCOPES;

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/** The scopes a role grants, in catalogue order. */
export function grantedScopes(role: Role): Scope[] {
  return (Object.keys(SCOPES) as Scope[]).filter((s) => (SCOPES[s].roles as readonly Role[]).includes(role));
}

/** True when no role but `admin` grants the scope: what an admin-only rule may rely on. */
export function isAdminOnlyScope(scope: Scope): boolean {
  const roles: readonly Role[] = SCOPES[scope].roles;
  return roles.length > 0 && roles.every((r) => r === "admin");
}
