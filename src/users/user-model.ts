import type { Role } from "../authz/scopes.js";

/** A user as the API sees it: never carries the password hash. */
export interface UserModel {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly createdAt: Date;
}
