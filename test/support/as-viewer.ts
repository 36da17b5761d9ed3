// Run an operation as a viewer with given scopes, in one line, for permission tests:
//
//   const t = await startTestServer();
//   const res = await gqlAs(t, { scopes: ["notes:read"] }, "{ notes { edges { node { title } } } }");
//   expect(authzOutcome(res)).toBe("ok");
//
// Users and sessions are written through the services (no register round trip, no rate limit);
// tokens are signed with the server's own KeyStore, so they pass the real verifier.

import { createPasswordHasher } from "../../src/auth/passwords.js";
import { issueAccessToken } from "../../src/auth/tokens/issue-access-token.js";
import { byPassword } from "../../src/auth/user-authentication.js";
import type { UserAuthentication } from "../../src/auth/viewer.js";
import type { NoteModel } from "../../src/modules/notes/note-model.js";
import type { Role } from "../../src/roles.js";
import { demoCatalogue as defaultScopeCatalogue, notesOf } from "./demo-modules.js";
import { type GraphQLResponse, type RequestOptions, TEST_PASSWORD, type TestServer } from "./test-server.js";

export interface SeededUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  /** A live session of the user, which tokens from `tokenFor` name as `sid`. */
  readonly sessionId: string;
  /** The refresh token of that session (BODY delivery form). */
  readonly refreshToken: string;
}

// One argon2 hash of TEST_PASSWORD per server: every seeded user can log in with it.
const passwordHashes = new WeakMap<TestServer, Promise<string>>();

function passwordHash(t: TestServer): Promise<string> {
  let hash = passwordHashes.get(t);
  if (!hash) {
    hash = createPasswordHasher(t.config.passwords).then(async (hasher) => {
      try {
        return await hasher.hash(TEST_PASSWORD);
      } finally {
        await hasher.close();
      }
    });
    passwordHashes.set(t, hash);
  }
  return hash;
}

let counter = 0;

/** A user (password TEST_PASSWORD) with one live session holding the role's granted scopes. */
export async function seedUser(
  t: TestServer,
  options: { role?: Role; displayName?: string; email?: string } = {},
): Promise<SeededUser> {
  counter += 1;
  const role = options.role ?? "user";
  const user = await t.server.services.users.create({
    email: options.email ?? `seed${counter}-${process.pid}-${Date.now()}@example.com`,
    passwordHash: await passwordHash(t),
    displayName: options.displayName ?? `Seed ${counter}`,
    role,
  });
  const { session, refreshToken } = await t.server.services.sessions.start({
    userId: user.id,
    scopes: defaultScopeCatalogue.grantedAtLogin(role),
    jkt: null,
    client: { ip: "127.0.0.1", userAgent: "as-viewer" },
    authentication: byPassword(t.clock),
  });
  return { id: user.id, email: user.email, role, sessionId: session.id, refreshToken };
}

/** A note owned by `owner`, written through the service. */
export function seedNote(
  t: TestServer,
  owner: { id: string },
  input: { title?: string; body?: string } = {},
): Promise<NoteModel> {
  counter += 1;
  return notesOf(t.server).create(owner.id, {
    title: input.title ?? `Note ${counter}`,
    body: input.body ?? `Body ${counter}`,
  });
}

/** An access token for the user's session with exactly `scopes`, signed by the server's keys. */
export async function tokenFor(
  t: TestServer,
  user: { id: string; sessionId: string },
  scopes: readonly string[],
  options: { ttlSeconds?: number; jkt?: string | null; authentication?: UserAuthentication | null } = {},
): Promise<string> {
  const { token } = await issueAccessToken(
    { keys: t.server.keys, clock: t.clock, config: t.config.tokens },
    {
      userId: user.id,
      sessionId: user.sessionId,
      scopes,
      jkt: options.jkt ?? null,
      // A user who just logged in with a password, unless the test says otherwise.
      authentication: options.authentication === undefined ? byPassword(t.clock) : options.authentication,
      ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
    },
  );
  return token;
}

/**
 * Who runs the operation: `"anonymous"`, or a user (a fresh one of `role`, default "user", unless
 * `user` is given) whose token carries `scopes` (default: everything the role grants).
 */
export type ViewerSpec =
  | "anonymous"
  | { readonly scopes?: readonly string[]; readonly user?: SeededUser; readonly role?: Role };

export interface ActingViewer {
  readonly user: SeededUser | null;
  readonly token: string | null;
  gql<TData = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: Omit<RequestOptions, "variables" | "token">,
  ): Promise<GraphQLResponse<TData>>;
}

/** A viewer to run several operations as. */
export async function asViewer(t: TestServer, spec: ViewerSpec): Promise<ActingViewer> {
  if (spec === "anonymous") {
    return {
      user: null,
      token: null,
      gql: (query, variables = {}, options = {}) => t.gql(query, { ...options, variables }),
    };
  }
  const user = spec.user ?? (await seedUser(t, spec.role ? { role: spec.role } : {}));
  const token = await tokenFor(t, user, spec.scopes ?? defaultScopeCatalogue.grantedAtLogin(user.role));
  return {
    user,
    token,
    gql: (query, variables = {}, options = {}) => t.gql(query, { ...options, variables, token }),
  };
}

/** One operation as a viewer: the one-liner of a permission test. */
export async function gqlAs<TData = Record<string, unknown>>(
  t: TestServer,
  spec: ViewerSpec,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<TData>> {
  return (await asViewer(t, spec)).gql<TData>(query, variables);
}

export type AuthzOutcome = "ok" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "ERROR";

// Refusals a resolver makes on purpose once authorization let the call through (bad input, a wrong
// password, a rate limit): the call was authorized, so they still count as "ok".
const EXPECTED_CODES = new Set(["BAD_USER_INPUT", "UNAUTHENTICATED", "TOO_MANY_REQUESTS"]);

/**
 * What the permission layer (and ownership checks) made of a response: "ERROR" if anything failed
 * that no one meant (a masked INTERNAL_SERVER_ERROR, a dependency outage, an invalid query), else a
 * denial if any error is one, else "ok": the fields resolved, with at most a deliberate refusal.
 */
export function authzOutcome(res: GraphQLResponse): AuthzOutcome {
  const errors = res.body.errors ?? [];
  const has = (test: (e: (typeof errors)[number]) => boolean) => errors.some(test);
  const code = (e: (typeof errors)[number]) => e.extensions?.code;
  const deliberate = (e: (typeof errors)[number]) =>
    ["FORBIDDEN", "NOT_FOUND"].includes(String(code(e))) || EXPECTED_CODES.has(String(code(e)));
  if (has((e) => !deliberate(e))) return "ERROR";
  if (
    has((e) => e.extensions?.code === "UNAUTHENTICATED" && e.extensions.reason === "authentication_required")
  )
    return "UNAUTHENTICATED";
  if (has((e) => e.extensions?.code === "FORBIDDEN")) return "FORBIDDEN";
  if (has((e) => e.extensions?.code === "NOT_FOUND")) return "NOT_FOUND";
  return "ok";
}
