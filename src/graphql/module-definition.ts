import type { GraphQLFieldResolver, GraphQLScalarType } from "graphql";
import type { ModuleHost } from "./module-host.js";
import type { HoldfastContext, HoldfastViewer } from "./public-context.js";

/**
 * A scope a module declares. The core catalogue knows no module's scope by name: each module brings
 * its own, and login, narrowToken, the permission guard and the OAuth metadata read them from here.
 */
export interface ModuleScope {
  readonly description: string;
  /** Granted to every account at login (default true). */
  readonly grantedAtLogin?: boolean;
  /** Granted to the admin role only: what admin-only rules and the guard rely on. */
  readonly adminOnly?: boolean;
  /** narrowToken keeps it only when the caller names it (a widget's token never inherits it). */
  readonly keptOnlyWhenNamed?: boolean;
}

/** What a policy named in `@policy(policies: …)` decides from: the viewer, the parent, the arguments. */
export interface PolicyInput<TParent = unknown, TArgs = Readonly<Record<string, unknown>>> {
  readonly viewer: HoldfastViewer | null;
  readonly parent: TParent;
  readonly args: TArgs;
  readonly context: HoldfastContext;
}

/** True allows; false, a throw or anything else denies (FORBIDDEN at the field's path). */
// biome-ignore lint/suspicious/noExplicitAny: a policy names the parent type it reads.
export type Policy<TParent = any> = (input: PolicyInput<TParent>) => boolean;

// biome-ignore lint/suspicious/noExplicitAny: parents and arguments are the module's own types.
type FieldResolver = GraphQLFieldResolver<any, HoldfastContext, any>;

/**
 * What a field declares beside its resolver (graphql-js field extensions; graphql-tools copies
 * them). `viewerIndependent`: the resolver reads nothing of the viewer or the connection from
 * `context`, so one rendering of a subscription event can serve every subscriber whose rules
 * decide alike (render-sharing.ts). Without it, a field's own resolver is assumed to read them.
 */
export interface FieldExtensions {
  readonly holdfast?: { readonly viewerIndependent?: boolean };
}

/** A subscription field: `subscribe` returns the stream (usually `context.events.subscribe(topic)`). */
export interface SubscriptionFieldResolver {
  readonly subscribe: FieldResolver;
  readonly resolve?: FieldResolver;
  readonly extensions?: FieldExtensions;
}

/** A field's resolver with declarations beside it. */
export interface FieldResolverWithExtensions {
  readonly resolve: FieldResolver;
  readonly extensions: FieldExtensions;
}

/** A graphql-tools resolver map whose resolvers receive Holdfast's request context. */
export type ModuleResolvers = Readonly<
  Record<
    string,
    | Readonly<Record<string, FieldResolver | SubscriptionFieldResolver | FieldResolverWithExtensions>>
    | GraphQLScalarType
  >
>;

/** A developer's own types, given to `createHoldfast({ modules })` (DESIGN.md, "modules"). */
export interface HoldfastModule {
  /** Unique among the server's modules: it names the module in errors and in the permission report. */
  readonly name: string;
  /** SDL: its own types, and `extend type Query | Mutation | Subscription` (the core defines those). */
  readonly typeDefs: string;
  readonly resolvers?: ModuleResolvers;
  readonly scopes?: Readonly<Record<string, ModuleScope>>;
  readonly policies?: Readonly<Record<string, Policy>>;
  /**
   * The TypeScript alternative to directives: `{ Type: { field: rule } }` with `holdfast`'s `rules`.
   * A field is decided by a directive or by this map, never both.
   */
  readonly permissions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * Runs once at start, before the first request (create its tables, warm a cache). A function it
   * returns runs when the server closes.
   */
  readonly setup?: (host: ModuleHost) => Promise<(() => Promise<void>) | undefined | void> | undefined | void;
}

const MODULE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Checks what can be checked alone; the rest (SDL, rules, scopes) when the server composes modules. */
export function defineModule(module: HoldfastModule): HoldfastModule {
  if (typeof module !== "object" || module === null) throw new TypeError("defineModule needs an object");
  if (typeof module.name !== "string" || !MODULE_NAME.test(module.name)) {
    throw new TypeError(
      `module name ${JSON.stringify(module.name)}: lower-case letters, digits and dashes, starting with a letter`,
    );
  }
  if (typeof module.typeDefs !== "string" || module.typeDefs.trim() === "") {
    throw new TypeError(`module ${module.name}: typeDefs must be a non-empty SDL string`);
  }
  return Object.freeze({ ...module });
}
