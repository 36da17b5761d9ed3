import { isRole, type Role } from "../authz/scopes.js";

/** A user as the API sees it: never carries the password hash. */
export interface UserModel {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly createdAt: Date;
}

/**
 * A user as a GraphQL parent: at least the id. `me` and `Note.owner` start from the id alone, so
 * `{ me { id } }` needs no database read; other fields load the row (batched) when asked for.
 */
export type UserRef = Pick<UserModel, "id"> & Partial<UserModel>;

/** A stored user row as the API sees it: a role outside the catalogue grants no more than "user". */
export function toUserModel(row: {
  id: string;
  email: string;
  displayName: string;
  role: string;
  createdAt: Date;
}): UserModel {
  return { ...row, role: isRole(row.role) ? row.role : "user" };
}
