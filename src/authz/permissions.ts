import type { GraphQLScalarType } from "graphql";
import type { Resolvers, ResolversParentTypes } from "../graphql/generated/resolvers-types.js";
import {
  adminOnly,
  authenticated,
  authPayloadSubject,
  type FieldRule,
  hasScope,
  ownerOr,
  parent,
  publicField,
} from "./field-rule.js";

/** The schema's object types, as the generated resolver types name them (scalars left out). */
export type ObjectTypeName = {
  [T in keyof Resolvers]-?: NonNullable<Resolvers[T]> extends GraphQLScalarType ? never : T;
}[keyof Resolvers];

/**
 * A rule for every field of every object type. Typed against the generated resolver types, so a
 * field added to the SDL (then `npm run codegen`) does not compile until it has a rule here; the
 * build-time guard in shield.ts checks the same against the live schema.
 */
export type PermissionMap = {
  readonly [T in ObjectTypeName]: {
    readonly [F in keyof NonNullable<Resolvers[T]>]-?: FieldRule<ResolversParentTypes[T]>;
  };
};

// Reaching a note at all: your own scope, or the admin one that reads every note.
const readNotes = hasScope(["notes:read"], ["notes:read:any"]);
const writeNotes = hasScope(["notes:write"]);

/**
 * The permission map: the one place that says who may read or call what. Root fields say it
 * explicitly; a nested field is `parent` when reaching its object is permission enough.
 * docs/permissions.md explains the choices and holds the generated table (`npm run permissions`).
 */
export const permissions: PermissionMap = {
  Query: {
    me: publicField,
    user: publicField,
    users: publicField,
    note: readNotes,
    notes: readNotes,
    sessions: hasScope(["sessions:read"]),
  },
  Mutation: {
    register: publicField,
    login: publicField,
    refresh: publicField,
    // Ending sessions only ever takes access away: any valid token may do it for its own user.
    logout: authenticated,
    logoutEverywhere: authenticated,
    // Another user's session needs `sessions:admin`; who owns a session is in the database, so
    // SessionService decides that part (authz never queries).
    revokeSession: authenticated,
    changePassword: authenticated,
    narrowToken: authenticated,
    createNote: writeNotes,
    updateNote: writeNotes,
    deleteNote: writeNotes,
    rotateSigningKey: adminOnly("keys:admin"),
  },
  // Events are authorized like `notes`: the root rule when the stream starts and again for every
  // event with the viewer at delivery; `note` and its fields by the Note rules (body per field).
  Subscription: { noteEvents: readNotes },
  NoteEvent: { kind: parent, noteId: parent, note: parent },
  SigningKeyRotation: { kid: parent, activatesAt: parent },
  User: {
    id: parent,
    displayName: parent,
    role: parent,
    createdAt: parent,
    email: ownerOr<ResolversParentTypes["User"]>({
      label: "self",
      ownerId: (user) => user.id,
      anyOf: [["users:read:email"]],
    }),
    notes: readNotes,
  },
  UserEdge: { cursor: parent, node: parent },
  UserConnection: { edges: parent, pageInfo: parent },
  Note: {
    id: parent,
    title: parent,
    createdAt: parent,
    owner: parent,
    // A token narrowed to notes:write alone must not read bodies back through a mutation's answer.
    body: ownerOr<ResolversParentTypes["Note"]>({
      label: "owner",
      ownerId: (note) => note.ownerId,
      ownerNeeds: [["notes:read"]],
      anyOf: [["notes:read:any"]],
    }),
  },
  NoteEdge: { cursor: parent, node: parent },
  NoteConnection: { edges: parent, pageInfo: parent },
  PageInfo: { hasNextPage: parent, endCursor: parent },
  Session: {
    id: parent,
    createdAt: parent,
    lastUsedAt: parent,
    expiresAt: parent,
    userAgent: parent,
    ip: parent,
    current: parent,
    boundToKey: parent,
  },
  AuthPayload: {
    accessToken: parent,
    tokenType: parent,
    expiresAt: parent,
    scopes: parent,
    refreshToken: parent,
    session: parent,
    user: authPayloadSubject,
  },
  NarrowedToken: { accessToken: parent, tokenType: parent, expiresAt: parent, scopes: parent },
};
