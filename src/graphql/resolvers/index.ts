import type { Resolvers } from "../generated/resolvers-types.js";
import { authMutations, Session, sessionQueries } from "./auth.js";
import { keyMutations } from "./keys.js";
import { Note, noteMutations, noteQueries } from "./notes.js";
import { passkeyMutations, passkeyQueries } from "./passkeys.js";
import { DateTime, JSONScalar } from "./scalars.js";
import { noteSubscriptions } from "./subscriptions.js";
import { User, userQueries } from "./users.js";

export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { ...userQueries, ...noteQueries, ...sessionQueries, ...passkeyQueries },
  Mutation: { ...noteMutations, ...authMutations, ...keyMutations, ...passkeyMutations },
  Subscription: { ...noteSubscriptions },
  User,
  Note,
  Session,
};
