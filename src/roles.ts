/**
 * The account roles. A user has one (users/ stores it); the scope catalogue (authz/scope-catalogue.ts)
 * says which scopes each grants. Here so that both can read it without importing each other.
 */
export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
