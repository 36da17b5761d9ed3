import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { TokenVerifier } from "../auth/authenticate.js";
import { byPassword } from "../auth/user-authentication.js";
import { type Viewer, viewerOf } from "../auth/viewer.js";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import { loadConfig } from "../config/config.js";
import type { HoldfastModule } from "../graphql/module-definition.js";
import type { Role } from "../roles.js";
import { createServer, type HoldfastServer } from "../server/create-server.js";

/**
 * Who runs an operation: `"anonymous"` (no token), or a user whose token would carry `scopes` (default:
 * everything `role` grants), or such a user whose session was revoked (`revoked: true`).
 */
export type ViewerSpec =
  | "anonymous"
  | {
      readonly scopes?: readonly string[];
      readonly role?: Role;
      /** An existing user instead of a new one; a new session is started for it. */
      readonly userId?: string;
      readonly revoked?: boolean;
      /**
       * How long ago the viewer signed in (default 0: just now). Past a field's `@stepUp(maxAge)`,
       * the field answers `insufficient_user_authentication`, as for a real token that old.
       */
      readonly signedInSecondsAgo?: number;
    };

export interface OperationResult<TData = Record<string, unknown>> {
  /** The HTTP status: 200, or 401 when authentication refused the request (a revoked session). */
  readonly status: number;
  readonly data: TData | null | undefined;
  readonly errors:
    | readonly {
        message: string;
        path?: readonly (string | number)[];
        extensions?: Record<string, unknown>;
      }[]
    | undefined;
}

export interface TestViewer {
  /** Null for the anonymous viewer. */
  readonly userId: string | null;
  readonly sessionId: string | null;
  run<TData = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<OperationResult<TData>>;
}

export interface TestingServerOptions {
  /** Your modules, composed with the core exactly as `createHoldfast` composes them. */
  readonly modules?: readonly HoldfastModule[];
  /** Settings (environment variable names) over the test defaults: silent logs, cheap argon2. */
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
}

export interface TestingServer {
  /** The assembled server: services, database, keys, for seeding data. */
  readonly server: HoldfastServer;
  /** A viewer to run several operations as. */
  viewer(spec: ViewerSpec): Promise<TestViewer>;
  /** One operation as a viewer: the one-liner of a resolver or permission test. */
  run<TData = Record<string, unknown>>(
    spec: ViewerSpec,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<OperationResult<TData>>;
  close(): Promise<void>;
}

const TEST_DEFAULTS: Readonly<Record<string, string>> = {
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  KEY_PUBLISH_DELAY_SECONDS: "0",
};

/** Synthetic credentials start with this; they never leave the process and are not JWTs. */
const TESTING_PREFIX = "holdfast-testing.";

/**
 * Holdfast assembled for an application's resolver tests, on a throwaway SQLite database (or the
 * `DATABASE_URL` given in `env`). Operations run through the whole HTTP stack — authentication,
 * the revocation check, the permission layer, error mapping — as a viewer you describe, without
 * minting or signing tokens: the viewer's credential is a random handle the server resolves in memory.
 */
export async function createTestingServer(options: TestingServerOptions = {}): Promise<TestingServer> {
  const dir = options.env?.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), "holdfast-testing-"));
  const config = loadConfig({
    ...TEST_DEFAULTS,
    ...(dir ? { DATABASE_URL: `file:${join(dir, "testing.db")}` } : {}),
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  const viewers = new Map<string, Viewer>();
  let server: HoldfastServer;
  try {
    server = await createServer({
      config,
      clock,
      logger: pino({ level: "silent" }),
      modules: options.modules ?? [],
      wrapTokenVerifier: (real): TokenVerifier => ({
        async verify(token) {
          if (!token.startsWith(TESTING_PREFIX)) return real.verify(token);
          const viewer = viewers.get(token);
          if (!viewer) return real.verify(token);
          return viewer;
        },
      }),
    });
  } catch (error) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { services } = server;
  let users = 0;

  async function send<TData>(authorization: string | null, query: string, variables = {}) {
    const response = await server.app.inject({
      method: "POST",
      url: config.server.graphqlPath,
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      payload: JSON.stringify({ query, variables }),
    });
    const body = response.json() as Pick<OperationResult<TData>, "data" | "errors">;
    return { status: response.statusCode, data: body.data, errors: body.errors };
  }

  async function viewer(spec: ViewerSpec): Promise<TestViewer> {
    if (spec === "anonymous") {
      return { userId: null, sessionId: null, run: (query, variables) => send(null, query, variables) };
    }
    const role = spec.role ?? "user";
    users += 1;
    const userId =
      spec.userId ??
      (
        await services.users.create({
          email: `viewer${users}-${randomBytes(4).toString("hex")}@testing.invalid`,
          // Not a hash of anything: this user signs in only through the testing handle.
          passwordHash: "!testing",
          displayName: `Viewer ${users}`,
          role,
        })
      ).id;
    const scopes = spec.scopes ?? server.scopes.grantedAtLogin(role);
    const client = { ip: "127.0.0.1", userAgent: "holdfast/testing" };
    // A viewer who just signed in with a password: step-up rules (RFC 9470) pass, as after a login.
    const { session } = await services.sessions.start({
      userId,
      scopes,
      jkt: null,
      client,
      authentication: {
        ...byPassword(clock),
        authTime: epochSeconds(clock.now()) - Math.max(0, Math.floor(spec.signedInSecondsAgo ?? 0)),
      },
    });
    if (spec.revoked) {
      await services.sessions.revoke({
        sessionId: session.id,
        actorUserId: userId,
        asAdmin: false,
        reason: "revoked",
        client,
      });
    }
    const handle = `${TESTING_PREFIX}${randomBytes(18).toString("base64url")}`;
    viewers.set(
      handle,
      viewerOf({
        userId,
        sessionId: session.id,
        scopes: new Set(scopes),
        jkt: null,
        expiresAt: epochSeconds(clock.now()) + config.tokens.accessTokenTtlSeconds,
        tokenId: handle,
        authentication: session.authentication,
      }),
    );
    return {
      userId,
      sessionId: session.id,
      run: (query, variables) => send(`Bearer ${handle}`, query, variables),
    };
  }

  return {
    server,
    viewer,
    run: async (spec, query, variables) => (await viewer(spec)).run(query, variables),
    async close() {
      await server.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
