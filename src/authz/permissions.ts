import {
  adminOnly,
  authenticated,
  authPayloadSubject,
  type FieldRule,
  hasScope,
  ownerOr,
  parent,
  publicField,
  recentAuthentication,
} from "./field-rule.js";

/**
 * A rule for every field of every object type: object type → field → rule. Which types and fields
 * must appear is the schema's business, and authz does not import the GraphQL layer: the schema
 * side (src/graphql/permission-coverage.ts) checks this map against the generated resolver types,
 * so a field added to the SDL (then `npm run codegen`) does not compile until it has a rule here;
 * the build-time guard in shield.ts checks the same against the live schema.
 */
export type PermissionMap = Readonly<Record<string, Readonly<Record<string, FieldRule<never>>>>>;

// Account actions need `account:manage`, which narrowToken keeps only when asked for by name, so a
// widget's token cannot sign the user out or take the account over.
const manageAccount = hasScope(["account:manage"]);

/**
 * RFC 9470 step-up for what would let a copied token take the account over or lock its owner out:
 * the token's user must have proven themself (login or `reauthenticate`) within
 * STEP_UP_MAX_AGE_SECONDS, and the thief has neither the password nor the passkey.
 */
const accountTakeover = (why: string) => recentAuthentication({ anyOf: [["account:manage"]], why });

/**
 * The permission map: the one place that says who may read or call what. Root fields say it
 * explicitly; a nested field is `parent` when reaching its object is permission enough.
 * docs/permissions.md explains the choices and holds the generated table (`npm run permissions`).
 */
export const permissions = {
  Query: {
    me: publicField,
    // The directory (ids, names, roles) is not for anonymous callers: admins would be easy to find.
    user: hasScope(["users:read"]),
    users: hasScope(["users:read"]),
    sessions: hasScope(["sessions:read"]),
    passkeys: manageAccount,
  },
  Mutation: {
    register: publicField,
    login: publicField,
    refresh: publicField,
    // Ending one's own session takes access away only, but a widget's token must not do it.
    logout: manageAccount,
    logoutEverywhere: accountTakeover("ends the owner's other sessions (a thief keeps theirs)"),
    // Another user's session needs `sessions:admin`; who owns a session is in the database, so
    // SessionService decides that part (authz never queries).
    revokeSession: recentAuthentication({
      anyOf: [["account:manage"]],
      why: "ends another session: the owner's, if a thief calls it",
      unless: {
        label: "the caller's own session",
        test: (args, viewer) => args.id === viewer.sessionId,
      },
    }),
    changePassword: accountTakeover("a new password locks the owner out"),
    narrowToken: authenticated,
    // Step-up itself: a recent authentication cannot be asked of the call that provides one.
    reauthenticate: manageAccount,
    passkeyRegistrationOptions: accountTakeover("a thief's passkey would be a way back in"),
    addPasskey: accountTakeover("a thief's passkey would be a way back in"),
    removePasskey: accountTakeover("removes the owner's way to sign in"),
    passkeySignInOptions: publicField,
    passkeySignIn: publicField,
    rotateSigningKey: adminOnly("keys:admin"),
  },
  SigningKeyRotation: { kid: parent, activatesAt: parent },
  User: {
    id: parent,
    displayName: parent,
    role: parent,
    createdAt: parent,
    email: ownerOr<{ readonly id: string }>({
      label: "self",
      ownerId: (user) => user.id,
      anyOf: [["users:read:email"]],
    }),
  },
  UserEdge: { cursor: parent, node: parent },
  UserConnection: { edges: parent, pageInfo: parent },
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
  Passkey: {
    id: parent,
    name: parent,
    createdAt: parent,
    lastUsedAt: parent,
    deviceType: parent,
    backedUp: parent,
  },
} satisfies PermissionMap;
