import type { QueryResolvers, UserResolvers } from "../generated/resolvers-types.js";

export const userQueries: Pick<QueryResolvers, "me" | "user" | "users"> = {
  me: (_parent, _args, { viewer, loaders }) => (viewer ? loaders.user.load(viewer.userId) : null),
  user: (_parent, { id }, { loaders }) => loaders.user.load(id),
  users: (_parent, { first, after }, { services }) => services.users.list(first, after),
};

export const User: UserResolvers = {
  // Field-level rules (who may read `email`) live in the permission map, not here.
  email: (user) => user.email,
  notes: (user, { first, after }, { services }) => services.notes.list(first, after, user.id),
};
