import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { envSchema } from "./env-schema.js";

// process.env is read here and nowhere else. Each function gets the slice of Config it needs.

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly server: { host: string; port: number; publicUrl: string; graphqlPath: "/graphql" };
  readonly log: { level: string; pretty: boolean };
  readonly database: { url: string; provider: "sqlite" | "postgres"; poolSize: number; autoMigrate: boolean };
  readonly redis: {
    url: string;
    keyPrefix: string;
    /** Signs the revocation channel; null outside production when unset (a public development key). */
    channelSecret: string | null;
  } | null;
  /** How often revocations are re-read from the database when pub/sub cannot deliver them. */
  readonly revocationPollSeconds: number;
  readonly tokens: {
    issuer: string;
    audience: string;
    alg: "EdDSA" | "ES256";
    accessTokenTtlSeconds: number;
    clockToleranceSeconds: number;
    cacheSize: number;
  };
  readonly keys: {
    encryptionSecret: string | null;
    rotationIntervalDays: number;
    publishDelaySeconds: number;
    reloadIntervalSeconds: number;
  };
  readonly dpop: {
    required: boolean;
    iatWindowSeconds: number;
    /** Secret for stateless nonces (RFC 9449 §8), or null when nonces are off. */
    nonceSecret: string | null;
    /** Bound of the in-memory replay cache (the Redis one is bounded by Redis). */
    replayCacheMaxEntries: number;
  };
  readonly passwords: {
    memoryKib: number;
    timeCost: number;
    parallelism: number;
    /** Hashes or verifications running at once (the rest wait in a queue). */
    maxConcurrent: number;
    /** Waiting hashes beyond which a new one is refused (SERVICE_UNAVAILABLE, retryable). */
    queueLimit: number;
  };
  /** RFC 9470 step-up: how recent an authentication account actions need (the rules' `max_age`). */
  readonly stepUp: { maxAgeSeconds: number };
  readonly refresh: {
    idleTtlSeconds: number;
    absoluteTtlSeconds: number;
    reuseGraceSeconds: number;
    cookieName: string;
  };
  readonly http: {
    corsOrigins: readonly string[];
    introspection: boolean;
    demo: boolean;
    /** GET /graphql in a browser opens Holdfast's IDE (GraphiQL signing with the page's DPoP key). */
    ide: boolean;
    /** Proxies whose X-Forwarded-For is believed (Fastify's trustProxy), or false. */
    trustProxy: false | readonly string[];
  };
  /** Resource servers allowed to call introspection and the revocation list (RFC 7662 §2.1). */
  readonly oauth: {
    clients: readonly OAuthClientCredential[];
    perClientPerMinute: number;
    failuresPerIpPerMinute: number;
  };
  readonly rateLimits: {
    loginFailuresPerAccount: number;
    loginBackoffSeconds: number;
    loginBackoffMaxSeconds: number;
    loginFailuresPerIpPerHour: number;
    registerPerIpPerHour: number;
    refreshPerIpPerMinute: number;
  };
  readonly graphqlLimits: {
    maxDepth: number;
    maxCost: number;
    maxAliases: number;
    maxDirectives: number;
    maxTokens: number;
  };
  /** GraphQL over WebSocket: limits per connection, session and address. */
  readonly subscriptions: {
    perConnection: number;
    connectionsPerSession: number;
    connectionsPerAddress: number;
    initTimeoutMs: number;
    maxMessageBytes: number;
    /** Events waiting for one subscription before its connection is closed as a slow consumer. */
    maxQueuedEvents: number;
    /** Bytes the socket may hold unsent before the connection is closed as a slow consumer. */
    maxBufferedBytes: number;
    /** Summed subscription cost (subscription-cost.ts) one connection / one user may hold. */
    costPerConnection: number;
    costPerUser: number;
    /** Bytes one event may render into on one connection, over all its subscriptions. */
    maxEventBytes: number;
    /** Render an event once per distinct permission outcome, not once per subscription. */
    renderCache: boolean;
  };
}

/** A client id with the SHA-256 of its secret; the secret itself is not kept. */
export interface OAuthClientCredential {
  readonly id: string;
  readonly secretSha256: Buffer;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Validates the environment once, at start, naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "not set" (a blank line in .env), not "set to empty".
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.REFRESH_IDLE_TTL_SECONDS > e.REFRESH_ABSOLUTE_TTL_SECONDS) {
    problems.push("REFRESH_IDLE_TTL_SECONDS: must not exceed REFRESH_ABSOLUTE_TTL_SECONDS");
  }
  if (e.KEY_RELOAD_INTERVAL_SECONDS >= e.KEY_PUBLISH_DELAY_SECONDS && e.KEY_PUBLISH_DELAY_SECONDS > 0) {
    problems.push(
      "KEY_RELOAD_INTERVAL_SECONDS: must be shorter than KEY_PUBLISH_DELAY_SECONDS, or other instances sign-verify out of step",
    );
  }
  if (e.DPOP_NONCE && !e.DPOP_NONCE_SECRET && (e.NODE_ENV === "production" || e.REDIS_URL !== undefined)) {
    problems.push(
      "DPOP_NONCE_SECRET: required with DPOP_NONCE=true in production or with several instances (REDIS_URL), so every instance accepts every nonce",
    );
  }
  // No safe key can be derived from what every instance shares (the URLs may carry no password), so
  // production refuses to start rather than sign the channel with a key anyone could compute.
  if (e.REDIS_URL !== undefined && !e.REVOCATION_CHANNEL_SECRET && e.NODE_ENV === "production") {
    problems.push(
      "REVOCATION_CHANNEL_SECRET: required with REDIS_URL in production (≥ 32 characters, the same on every instance), so nobody who can only write to Redis can revoke sessions",
    );
  }
  if (e.RATE_LIMIT_LOGIN_BACKOFF_SECONDS > e.RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS) {
    problems.push("RATE_LIMIT_LOGIN_BACKOFF_SECONDS: must not exceed RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS");
  }
  if (e.NODE_ENV === "production" && e.DEMO) problems.push("DEMO: the demo page is not served in production");
  const oauthClients = parseOAuthClients(e.INTROSPECTION_CLIENTS, e.INTROSPECTION_CLIENTS_FILE, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const dev = e.NODE_ENV === "development";
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  const provider: "sqlite" | "postgres" = e.DATABASE_URL.startsWith("file:") ? "sqlite" : "postgres";
  return Object.freeze({
    env: e.NODE_ENV,
    server: { host: e.HOST, port: e.PORT, publicUrl, graphqlPath: "/graphql" as const },
    log: { level: e.LOG_LEVEL, pretty: dev },
    database: {
      url: e.DATABASE_URL,
      provider,
      poolSize: e.DATABASE_POOL_SIZE,
      // Only the embedded default migrates itself; PostgreSQL waits for `npx holdfast migrate`.
      autoMigrate: e.DATABASE_AUTO_MIGRATE ?? provider === "sqlite",
    },
    redis: e.REDIS_URL
      ? {
          url: e.REDIS_URL,
          keyPrefix: e.REDIS_KEY_PREFIX,
          channelSecret: e.REVOCATION_CHANNEL_SECRET ?? null,
        }
      : null,
    revocationPollSeconds: e.REVOCATION_POLL_SECONDS,
    tokens: {
      issuer: e.JWT_ISSUER ?? publicUrl,
      audience: e.JWT_AUDIENCE,
      alg: e.JWT_ALG,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      clockToleranceSeconds: e.CLOCK_TOLERANCE_SECONDS,
      cacheSize: e.TOKEN_CACHE_SIZE,
    },
    keys: {
      encryptionSecret: e.KEY_ENCRYPTION_SECRET ?? null,
      rotationIntervalDays: e.KEY_ROTATION_INTERVAL_DAYS,
      publishDelaySeconds: e.KEY_PUBLISH_DELAY_SECONDS,
      reloadIntervalSeconds: e.KEY_RELOAD_INTERVAL_SECONDS,
    },
    dpop: {
      required: e.DPOP === "required",
      iatWindowSeconds: e.DPOP_IAT_WINDOW_SECONDS,
      // Without a configured secret a single instance makes its own at start.
      nonceSecret: e.DPOP_NONCE ? (e.DPOP_NONCE_SECRET ?? randomBytes(32).toString("base64url")) : null,
      replayCacheMaxEntries: e.DPOP_REPLAY_CACHE_MAX_ENTRIES,
    },
    passwords: {
      memoryKib: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_TIME_COST,
      parallelism: e.ARGON2_PARALLELISM,
      maxConcurrent: e.ARGON2_MAX_CONCURRENT,
      queueLimit: e.ARGON2_QUEUE_LIMIT,
    },
    stepUp: { maxAgeSeconds: e.STEP_UP_MAX_AGE_SECONDS },
    refresh: {
      idleTtlSeconds: e.REFRESH_IDLE_TTL_SECONDS,
      absoluteTtlSeconds: e.REFRESH_ABSOLUTE_TTL_SECONDS,
      reuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      cookieName: e.REFRESH_COOKIE_NAME,
    },
    http: {
      corsOrigins: e.CORS_ORIGINS,
      introspection: e.INTROSPECTION ?? dev,
      demo: e.DEMO ?? dev,
      ide: e.GRAPHQL_IDE ?? dev,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
    },
    oauth: {
      clients: oauthClients,
      perClientPerMinute: e.RATE_LIMIT_OAUTH_PER_CLIENT_PER_MINUTE,
      failuresPerIpPerMinute: e.RATE_LIMIT_OAUTH_FAILURES_PER_IP_PER_MINUTE,
    },
    rateLimits: {
      loginFailuresPerAccount: e.RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT,
      loginBackoffSeconds: e.RATE_LIMIT_LOGIN_BACKOFF_SECONDS,
      loginBackoffMaxSeconds: e.RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS,
      loginFailuresPerIpPerHour: e.RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR,
      registerPerIpPerHour: e.RATE_LIMIT_REGISTER_PER_IP_PER_HOUR,
      refreshPerIpPerMinute: e.RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE,
    },
    graphqlLimits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
    },
    subscriptions: {
      perConnection: e.SUBSCRIPTIONS_PER_CONNECTION,
      connectionsPerSession: e.SUBSCRIPTION_CONNECTIONS_PER_SESSION,
      connectionsPerAddress: e.SUBSCRIPTION_CONNECTIONS_PER_ADDRESS,
      initTimeoutMs: e.SUBSCRIPTION_INIT_TIMEOUT_MS,
      maxMessageBytes: e.SUBSCRIPTION_MAX_MESSAGE_BYTES,
      maxQueuedEvents: e.SUBSCRIPTION_MAX_QUEUED_EVENTS,
      maxBufferedBytes: e.SUBSCRIPTION_MAX_BUFFERED_BYTES,
      costPerConnection: e.SUBSCRIPTION_COST_PER_CONNECTION,
      costPerUser: e.SUBSCRIPTION_COST_PER_USER,
      maxEventBytes: e.SUBSCRIPTION_MAX_EVENT_BYTES,
      renderCache: e.SUBSCRIPTION_RENDER_CACHE === "on",
    },
  });
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;
/** Client secrets are random strings, not passwords: long enough that a plain SHA-256 protects them. */
const MIN_SECRET_LENGTH = 16;

function parseOAuthClients(
  list: readonly string[] | undefined,
  file: string | undefined,
  problems: string[],
): OAuthClientCredential[] {
  const entries: { source: string; entry: string }[] = (list ?? []).map((entry) => ({
    source: "INTROSPECTION_CLIENTS",
    entry,
  }));
  if (file !== undefined) {
    try {
      for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
        const entry = line.trim();
        if (entry && !entry.startsWith("#")) entries.push({ source: "INTROSPECTION_CLIENTS_FILE", entry });
      }
    } catch {
      problems.push(`INTROSPECTION_CLIENTS_FILE: cannot read ${file}`);
    }
  }
  const clients: OAuthClientCredential[] = [];
  for (const { source, entry } of entries) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    const secret = entry.slice(colon + 1);
    if (colon < 0 || !CLIENT_ID.test(id)) {
      problems.push(`${source}: each entry is id:secret with an id of letters, digits, . _ ~ -`);
      continue;
    }
    if (clients.some((c) => c.id === id)) {
      problems.push(`${source}: client ${id} is listed twice`);
      continue;
    }
    const hashed = /^sha256:([0-9a-f]{64})$/i.exec(secret);
    if (hashed) {
      clients.push({ id, secretSha256: Buffer.from(hashed[1]!, "hex") });
    } else if (secret.length < MIN_SECRET_LENGTH) {
      problems.push(`${source}: the secret of ${id} must be at least ${MIN_SECRET_LENGTH} characters`);
    } else {
      clients.push({ id, secretSha256: createHash("sha256").update(secret).digest() });
    }
  }
  return clients;
}

function parseTrustProxy(value: string | undefined): false | readonly string[] {
  return value === undefined ? false : value.split(",").map((s) => s.trim());
}

/** For entry points (server, CLIs): a bad environment ends the process with the message, no stack. */
export function loadConfigOrExit(source: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
