/**
 * The scope catalogue: every scope the server knows, what it allows and who is granted it. Built
 * once at start from the core's scopes and each module's; a token carries a subset of its user's
 * granted scopes, and the permission layer refuses a rule that names a scope missing from here.
 */
import type { Role } from "../roles.js";

/** What a module (or the core) declares about one of its scopes. */
export interface ScopeDefinition {
  readonly description: string;
  /** Granted to the role's sessions at login (default true). */
  readonly grantedAtLogin?: boolean;
  /** Granted to admins only: what an `admin` rule may rely on. */
  readonly adminOnly?: boolean;
  /**
   * Never carried over implicitly: narrowToken keeps it only when the caller names it, so a
   * widget's token lacks it unless asked for by name (today narrowToken takes every scope by name).
   */
  readonly keptOnlyWhenNamed?: boolean;
}

/** Scope name → definition, as a module declares them. */
export type ScopeDefinitions = Readonly<Record<string, ScopeDefinition>>;

/** Where a set of definitions comes from: `core` or a module's name (named in conflict errors). */
export interface ScopeSource {
  readonly name: string;
  readonly scopes: ScopeDefinitions;
}

export interface ScopeCatalogue {
  /** Every scope, core first, then each module's in the order given. */
  readonly scopes: readonly string[];
  has(scope: string): boolean;
  /** The definition with its defaults filled in; undefined for an unknown scope. */
  definition(scope: string): Required<ScopeDefinition> | undefined;
  /** The source that declared the scope (`core` or a module's name). */
  sourceOf(scope: string): string | undefined;
  /** The scopes a role's session gets at login, in catalogue order. */
  grantedAtLogin(role: Role): string[];
  /** True when no role but `admin` is granted the scope. */
  isAdminOnly(scope: string): boolean;
  keptOnlyWhenNamed(scope: string): boolean;
}

/** Two sources declare the same scope, a scope is not an RFC 6749 scope-token, or a definition is malformed. */
export class ScopeCatalogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Scope catalogue: ${problems.join("; ")}`);
    this.name = "ScopeCatalogueError";
  }
}

/** The core's own scopes; domain scopes (notes:…) belong to their modules. */
export const CORE_SCOPES = {
  "sessions:read": { description: "List your own sessions" },
  // Never implied by another scope: narrowToken keeps it only when asked for it by name.
  "account:manage": {
    description:
      "Act on your own account: sign out, end sessions, change the password, manage passkeys, reauthenticate",
    keptOnlyWhenNamed: true,
  },
  "users:read": { description: "Look up and list users (the directory)" },
  "users:read:email": { description: "Read any user's email address", adminOnly: true },
  "sessions:admin": { description: "Revoke any user's session", adminOnly: true },
  "keys:admin": { description: "Rotate the token signing keys", adminOnly: true },
} as const satisfies ScopeDefinitions;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). The same grammar as the token
// claims' (auth/tokens/claim-syntax.ts), repeated because authz imports no service.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function problemsOf(source: ScopeSource, scope: string, definition: unknown): string[] {
  const where = `${source.name}: scope "${scope}"`;
  if (!SCOPE_TOKEN.test(scope)) return [`${where} is not an RFC 6749 scope-token`];
  const d = definition as Partial<Record<keyof ScopeDefinition, unknown>> | null;
  if (typeof d !== "object" || d === null) return [`${where} has no definition`];
  const problems: string[] = [];
  if (typeof d.description !== "string" || d.description.trim() === "") {
    problems.push(`${where} needs a description`);
  }
  for (const flag of ["grantedAtLogin", "adminOnly", "keptOnlyWhenNamed"] as const) {
    if (d[flag] !== undefined && typeof d[flag] !== "boolean")
      problems.push(`${where}: ${flag} must be a boolean`);
  }
  return problems;
}

/**
 * The catalogue of `sources` (the core's first, by convention). Every problem is collected and
 * thrown at once as a ScopeCatalogueError; a scope declared twice names both declarers.
 */
export function createScopeCatalogue(sources: readonly ScopeSource[]): ScopeCatalogue {
  const entries = new Map<string, { source: string; definition: Required<ScopeDefinition> }>();
  const problems: string[] = [];
  for (const source of sources) {
    for (const [scope, definition] of Object.entries(source.scopes)) {
      const found = problemsOf(source, scope, definition);
      const earlier = entries.get(scope);
      if (earlier) {
        found.push(`scope "${scope}" is declared by both ${earlier.source} and ${source.name}`);
      }
      problems.push(...found);
      if (found.length > 0) continue;
      entries.set(scope, {
        source: source.name,
        definition: {
          description: definition.description,
          grantedAtLogin: definition.grantedAtLogin ?? true,
          adminOnly: definition.adminOnly ?? false,
          keptOnlyWhenNamed: definition.keptOnlyWhenNamed ?? false,
        },
      });
    }
  }
  if (problems.length > 0) throw new ScopeCatalogueError(problems);
  const scopes = Object.freeze([...entries.keys()]);
  return {
    scopes,
    has: (scope) => entries.has(scope),
    definition: (scope) => entries.get(scope)?.definition,
    sourceOf: (scope) => entries.get(scope)?.source,
    grantedAtLogin: (role) =>
      scopes.filter((scope) => {
        const { grantedAtLogin, adminOnly } = entries.get(scope)!.definition;
        return grantedAtLogin && (!adminOnly || role === "admin");
      }),
    isAdminOnly: (scope) => entries.get(scope)?.definition.adminOnly ?? false,
    keptOnlyWhenNamed: (scope) => entries.get(scope)?.definition.keptOnlyWhenNamed ?? false,
  };
}

/** The core's scopes plus the given modules' (each `{ name, scopes }`). */
export function scopeCatalogue(modules: readonly ScopeSource[] = []): ScopeCatalogue {
  return createScopeCatalogue([{ name: "core", scopes: CORE_SCOPES }, ...modules]);
}
