import type { Resolvers } from "../generated/resolvers-types.js";
import { authMutations, Session, sessionQueries } from "./auth.js";
import { keyMutations } from "./keys.js";
import { Note, noteMutations, noteQueries } from "./notes.js";
import { DateTime } from "./scalars.js";
import { noteSubscriptions } from "./subscriptions.js";
import { User, userQueries } from "./users.js";

export const resolvers: Resolvers = {
  DateTime,
  Query: { ...userQueries, ...noteQueries, ...sessionQueries },
  Mutation: { ...noteMutations, ...authMutations, ...keyMutations },
  Subscription: { ...noteSubscriptions },
  User,
  Note,
  Session,
};
