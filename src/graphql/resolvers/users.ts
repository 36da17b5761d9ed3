import { NotFoundError } from "../../errors/app-error.js";
import type { UserModel, UserRef } from "../../users/user-model.js";
import type { GraphQLContext } from "../context.js";
import type { QueryResolvers, UserResolvers } from "../generated/resolvers-types.js";

export const userQueries: Pick<QueryResolvers, "me" | "user" | "users"> = {
  // The verified token names the user: no database read until a field needs the row.
  me: (_parent, _args, { viewer }) => (viewer ? { id: viewer.userId } : null),
  user: (_parent, { id }, { loaders }) => loaders.user.load(id),
  users: (_parent, { first, after }, { services }) => services.users.list(first, after),
};

async function row(user: UserRef, { loaders }: GraphQLContext): Promise<UserModel> {
  const loaded = await loaders.user.load(user.id);
  if (!loaded) throw new NotFoundError("User not found");
  return loaded;
}

/** The field from the parent when it has it (synchronously), else from the batched row. */
function field<K extends "displayName" | "email" | "role" | "createdAt">(key: K) {
  return (user: UserRef, _args: unknown, context: GraphQLContext): UserModel[K] | Promise<UserModel[K]> =>
    user[key] !== undefined ? (user[key] as UserModel[K]) : row(user, context).then((loaded) => loaded[key]);
}

export const User: UserResolvers = {
  displayName: field("displayName"),
  // Who may read `email` is the permission map's decision, not the resolver's.
  email: field("email"),
  role: field("role"),
  createdAt: field("createdAt"),
};
