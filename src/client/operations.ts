import { typedDocument } from "./typed-document.js";

// The demo's operations and the client's own auth mutations, typed by hand against
// src/graphql/schema/*.graphql. DateTime values arrive as ISO-8601 strings.

export type DateTimeString = string;

export interface UserFields {
  id: string;
  displayName: string;
  /** Null unless the caller is the user or holds `users:read:email`. */
  email: string | null;
  role: string;
  createdAt: DateTimeString;
}

export interface NoteFields {
  id: string;
  title: string;
  /** Null unless the caller owns the note or holds `notes:read:any`. */
  body: string | null;
  createdAt: DateTimeString;
  owner: { id: string; displayName: string };
}

export interface SessionFields {
  id: string;
  createdAt: DateTimeString;
  lastUsedAt: DateTimeString;
  expiresAt: DateTimeString;
  userAgent: string | null;
  current: boolean;
  boundToKey: boolean;
}

const userFields = "id displayName email role createdAt";
const noteFields = "id title body createdAt owner { id displayName }";
const sessionFields = "id createdAt lastUsedAt expiresAt userAgent current boundToKey";

export interface MeQuery {
  me: UserFields | null;
}
export const MeDocument = typedDocument<MeQuery>("Me", `query Me { me { ${userFields} } }`);

/** The caller's own notes, newest first (other users' note bodies are not theirs to read). */
export interface NotesQuery {
  me: {
    notes: {
      edges: { cursor: string; node: NoteFields }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}
export interface NotesQueryVariables {
  first?: number;
  after?: string | null;
}
export const NotesDocument = typedDocument<NotesQuery, NotesQueryVariables>(
  "Notes",
  `query Notes($first: Int, $after: String) {
  me { notes(first: $first, after: $after) { edges { cursor node { ${noteFields} } } pageInfo { hasNextPage endCursor } } }
}`,
);

export interface SessionsQuery {
  sessions: SessionFields[];
}
export const SessionsDocument = typedDocument<SessionsQuery>(
  "Sessions",
  `query Sessions { sessions { ${sessionFields} } }`,
);

export interface CreateNoteMutation {
  createNote: NoteFields;
}
export interface CreateNoteMutationVariables {
  input: { title: string; body: string };
}
export const CreateNoteDocument = typedDocument<CreateNoteMutation, CreateNoteMutationVariables>(
  "CreateNote",
  `mutation CreateNote($input: CreateNoteInput!) { createNote(input: $input) { ${noteFields} } }`,
);

export interface LogoutMutation {
  logout: boolean;
}
export const LogoutDocument = typedDocument<LogoutMutation>("Logout", "mutation Logout { logout }");

export interface LogoutEverywhereMutation {
  logoutEverywhere: boolean;
}
export const LogoutEverywhereDocument = typedDocument<
  LogoutEverywhereMutation,
  { removePasskeysAddedWithinDays?: number | null }
>(
  "LogoutEverywhere",
  "mutation LogoutEverywhere($removePasskeysAddedWithinDays: Int) { logoutEverywhere(removePasskeysAddedWithinDays: $removePasskeysAddedWithinDays) }",
);

// --- auth mutations: used by the client itself; their payload holds tokens and never reaches the caller.

export type RefreshTokenDelivery = "COOKIE" | "BODY";

export interface AuthPayloadFields {
  accessToken: string;
  tokenType: string;
  expiresAt: DateTimeString;
  scopes: string[];
  refreshToken: string | null;
  session: { id: string };
  user: { id: string; displayName: string; email: string | null };
}

const authPayloadFields =
  "accessToken tokenType expiresAt scopes refreshToken session { id } user { id displayName email }";

export interface LoginInput {
  email: string;
  password: string;
  scopes?: string[];
  refreshTokenDelivery?: RefreshTokenDelivery;
}
export const LoginDocument = typedDocument<{ login: AuthPayloadFields }, { input: LoginInput }>(
  "Login",
  `mutation Login($input: LoginInput!) { login(input: $input) { ${authPayloadFields} } }`,
);

export interface RegisterInput {
  email: string;
  password: string;
  displayName: string;
  refreshTokenDelivery?: RefreshTokenDelivery;
}
export const RegisterDocument = typedDocument<{ register: AuthPayloadFields }, { input: RegisterInput }>(
  "Register",
  `mutation Register($input: RegisterInput!) { register(input: $input) { ${authPayloadFields} } }`,
);

export const RefreshDocument = typedDocument<{ refresh: AuthPayloadFields }, { refreshToken?: string }>(
  "Refresh",
  `mutation Refresh($refreshToken: String) { refresh(refreshToken: $refreshToken) { ${authPayloadFields} } }`,
);
