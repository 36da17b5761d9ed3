/**
 * The notes module's scopes, in the shape a module declares them (authz's ScopeDefinitions):
 * the core catalogue knows none of them by name. Plain data: notes imports no policy code.
 */
export const noteScopes = {
  name: "notes",
  scopes: {
    "notes:read": { description: "Reach notes: any note's title and metadata, and the body of your own" },
    "notes:write": { description: "Create, edit and delete your own notes" },
    "notes:read:any": { description: "Read the body of any user's note", adminOnly: true },
  },
} as const;
