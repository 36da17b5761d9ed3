import type { Resolvers } from "../generated/resolvers-types.js";
import { authMutations, Session, sessionQueries } from "./auth.js";
import { keyMutations } from "./keys.js";
import { passkeyMutations, passkeyQueries } from "./passkeys.js";
import { DateTime, JSONScalar } from "./scalars.js";
import { User, userQueries } from "./users.js";

export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { ...userQueries, ...sessionQueries, ...passkeyQueries },
  Mutation: { ...authMutations, ...keyMutations, ...passkeyMutations },
  User,
  Session,
};
