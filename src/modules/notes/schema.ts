/**
 * The notes module's SDL: its own types, and extensions of the core's Query, Mutation, Subscription
 * and User. Root fields carry their permission directives; nested types are decided in the
 * module's permission map (notes-permissions.ts), which keeps the owner-or-scope rule of a body.
 */
export const notesTypeDefs = /* GraphQL */ `
type Note {
  id: ID!
  title: String!
  "Readable by the note's owner, or with the \`notes:read:any\` scope."
  body: String
  owner: User!
  createdAt: DateTime!
}

type NoteEdge {
  cursor: String!
  node: Note!
}

type NoteConnection {
  edges: [NoteEdge!]!
  pageInfo: PageInfo!
}

input CreateNoteInput {
  title: String!
  body: String!
}

input UpdateNoteInput {
  title: String
  body: String
}

enum NoteEventKind {
  CREATED
  UPDATED
  DELETED
}

"A note was written. \`note\` is null for \`DELETED\`; its fields obey the same rules as in \`notes\`."
type NoteEvent {
  kind: NoteEventKind!
  noteId: ID!
  note: Note
}

extend type User {
  "The user's notes, newest first. \`first\` is at most 100. Null (with an error) without a notes scope."
  notes(first: Int = 20, after: String): NoteConnection
    @requiresScopes(scopes: [["notes:read"], ["notes:read:any"]])
}

extend type Query {
  note(id: ID!): Note @requiresScopes(scopes: [["notes:read"], ["notes:read:any"]])
  "All notes, newest first. \`first\` is at most 100. Null (with an error) without a notes scope."
  notes(first: Int = 20, after: String): NoteConnection
    @requiresScopes(scopes: [["notes:read"], ["notes:read:any"]])
}

extend type Mutation {
  createNote(input: CreateNoteInput!): Note! @requiresScopes(scopes: [["notes:write"]])
  updateNote(id: ID!, input: UpdateNoteInput!): Note! @requiresScopes(scopes: [["notes:write"]])
  deleteNote(id: ID!): Boolean! @requiresScopes(scopes: [["notes:write"]])
}

extend type Subscription {
  """
  Every note's creation, update and deletion, as they happen. Needs \`notes:read\` like \`notes\`:
  checked when the stream starts and again for every event, with the token the connection holds.
  """
  noteEvents: NoteEvent! @requiresScopes(scopes: [["notes:read"], ["notes:read:any"]])
}
`;
