import {
  BadUserInputError,
  defineModule,
  type HoldfastContext,
  NotFoundError,
  requireViewer,
} from "holdfast";
import { projectStore } from "./project-store.js";

/** A project as the store keeps it; `ownerId` is a Holdfast user id. */
export interface Project {
  id: string;
  name: string;
  ownerId: string;
  budget: number;
}

/** What `projectEvents` delivers (events travel as JSON: plain values only). */
interface ProjectEvent {
  kind: "CREATED" | "DELETED";
  project: Project;
}

export const projects = defineModule({
  name: "projects",
  typeDefs: /* GraphQL */ `
    type Project @authenticated {
      id: ID!
      name: String!
      owner: User!
      "Only the owner, or support staff, see the budget; anyone else gets null and FORBIDDEN here."
      budget: Int @policy(policies: [["projectOwner"], ["support"]])
    }
    type ProjectEvent @authenticated {
      kind: String!
      project: Project!
    }
    extend type Query {
      projects: [Project!]! @requiresScopes(scopes: [["projects:read"], ["projects:read:any"]])
    }
    extend type Mutation {
      createProject(name: String!, budget: Int!): Project! @requiresScopes(scopes: [["projects:write"]])
      "Deleting needs a sign-in within the last 5 minutes (RFC 9470 step-up)."
      deleteProject(id: ID!): Boolean! @requiresScopes(scopes: [["projects:write"]]) @stepUp(maxAge: 300)
    }
    extend type Subscription {
      projectEvents: ProjectEvent! @requiresScopes(scopes: [["projects:read"]])
    }
  `,
  scopes: {
    "projects:read": { description: "List your projects" },
    "projects:write": { description: "Create and delete your projects" },
    "projects:read:any": { description: "List every project (support)", adminOnly: true },
  },
  policies: {
    projectOwner: ({ viewer, parent }) => viewer?.userId === (parent as Project).ownerId,
    support: ({ viewer }) => viewer?.scopes.has("projects:read:any") ?? false,
  },
  // Holdfast's database, shared: the module makes its own table in it once, at start.
  setup: async ({ database }) => {
    await projectStore(database).createTable();
  },
  resolvers: {
    Query: {
      projects: (_parent, _args, context: HoldfastContext) => {
        const viewer = requireViewer(context);
        const store = projectStore(context.database);
        return viewer.scopes.has("projects:read:any") ? store.all() : store.ownedBy(viewer.userId);
      },
    },
    Mutation: {
      createProject: async (_parent, args: { name: string; budget: number }, context: HoldfastContext) => {
        if (args.name.trim() === "")
          throw new BadUserInputError("invalid_name", "A project needs a name", "name");
        const project = await projectStore(context.database).insert({
          name: args.name.trim(),
          budget: args.budget,
          ownerId: requireViewer(context).userId,
        });
        context.events.publish("projects", { kind: "CREATED", project } satisfies ProjectEvent);
        return project;
      },
      deleteProject: async (_parent, args: { id: string }, context: HoldfastContext) => {
        const store = projectStore(context.database);
        const project = await store.byId(args.id);
        if (!project || project.ownerId !== requireViewer(context).userId) {
          throw new NotFoundError("No such project");
        }
        await store.delete(project.id);
        context.events.publish("projects", { kind: "DELETED", project } satisfies ProjectEvent);
        return true;
      },
    },
    Subscription: {
      projectEvents: {
        // Each event then passes the field's rules, and Project's, with the viewer at delivery.
        subscribe: (_parent, _args, context: HoldfastContext) => context.events.subscribe("projects"),
        resolve: (event: ProjectEvent) => event,
      },
    },
    Project: {
      // Holdfast's User type resolves the rest from the id.
      owner: (project: Project) => ({ id: project.ownerId }),
    },
  },
});
