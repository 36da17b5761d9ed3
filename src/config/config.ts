import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";

// process.env is read here and nowhere else. Each function gets the slice of Config it needs.

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => ["true", "1", "yes", "on"].includes(v));
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  HOST: z.string().min(1).default("localhost"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "must start with file: (SQLite) or postgresql:// (PostgreSQL)")
    .default("file:./data/holdfast.db"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_AUTO_MIGRATE: bool.optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, "letters, digits, : _ - only")
    .default("holdfast:"),
  REVOCATION_POLL_SECONDS: seconds(1, 300).default(5),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  // The HMAC key of Holdfast's own revocation channel, the same on every instance (issue 27).
  REVOCATION_CHANNEL_SECRET: z.string().min(32, "must be at least 32 characters").optional(),

  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).default("holdfast"),
  JWT_ALG: z.enum(["EdDSA", "ES256"]).default("EdDSA"),
  ACCESS_TOKEN_TTL_SECONDS: seconds(60, 900).default(300),
  CLOCK_TOLERANCE_SECONDS: seconds(0, 60).default(5),
  TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  KEY_ENCRYPTION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  KEY_ROTATION_INTERVAL_DAYS: z.coerce.number().int().min(0).max(3650).default(0),
  KEY_PUBLISH_DELAY_SECONDS: seconds(0, 3600).default(60),
  KEY_RELOAD_INTERVAL_SECONDS: seconds(1, 3600).default(30),

  DPOP: z.enum(["optional", "required"]).default("optional"),
  DPOP_IAT_WINDOW_SECONDS: seconds(5, 600).default(60),
  DPOP_NONCE: bool.default(false),
  DPOP_NONCE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  // Unexpired proof identifiers one instance remembers without Redis; past it new proofs get a 503.
  DPOP_REPLAY_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(100_000),

  ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).max(1_048_576).default(19_456),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).max(20).default(2),
  ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(16).default(1),
  // Hashes at once: by default every core but one, which stays free for the event loop.
  ARGON2_MAX_CONCURRENT: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.max(1, availableParallelism() - 1)),
  // Hashes waiting beyond that; one more is refused with a retryable 503 instead of queued.
  ARGON2_QUEUE_LIMIT: z.coerce.number().int().min(0).max(10_000).default(64),

  STEP_UP_MAX_AGE_SECONDS: seconds(30, 86_400).default(300),

  REFRESH_IDLE_TTL_SECONDS: seconds(60, 365 * 86_400).default(14 * 86_400),
  REFRESH_ABSOLUTE_TTL_SECONDS: seconds(60, 365 * 86_400).default(30 * 86_400),
  REFRESH_REUSE_GRACE_SECONDS: seconds(0, 120).default(10),
  REFRESH_COOKIE_NAME: z
    .string()
    .regex(/^__(Host|Secure)-[A-Za-z0-9_]+$/, "must start with __Host- or __Secure-")
    .default("__Host-holdfast_rt"),

  CORS_ORIGINS: csv.default([]),
  // Which peers may tell us the client's address in X-Forwarded-For: the proxies' addresses/CIDRs
  // (or loopback, linklocal, uniquelocal). Never "any": a client could then pick its own address
  // and step around every per-IP limit.
  TRUST_PROXY: z
    .string()
    .refine(
      (v) => v.split(",").every((entry) => isProxyEntry(entry.trim())),
      "must be a comma-separated list of proxy addresses or CIDRs (or loopback, linklocal, uniquelocal)",
    )
    .optional(),
  INTROSPECTION: bool.optional(),
  // RFC 7662 §2.1 callers (resource servers): `id:secret` or `id:sha256:<hex of SHA-256(secret)>`, comma-separated.
  INTROSPECTION_CLIENTS: csv.optional(),
  /** A file with one `id:secret` or `id:sha256:<hex>` per line (# comments), instead of or beside the variable. */
  INTROSPECTION_CLIENTS_FILE: z.string().min(1).optional(),
  RATE_LIMIT_OAUTH_PER_CLIENT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  RATE_LIMIT_OAUTH_FAILURES_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(20),
  DEMO: bool.optional(),

  RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(100).default(5),
  RATE_LIMIT_LOGIN_BACKOFF_SECONDS: seconds(1, 3600).default(60),
  RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS: seconds(1, 86_400).default(900),
  RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(100),
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(20),
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),

  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(10),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(100).max(1_000_000).default(50_000),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(50),
  // At most 2000: the parser recurses once per nesting level, and ~2000 levels (4000 tokens)
  // exhaust Node's default stack; 2000 tokens allow at most 1000.
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).max(2000).default(1000),

  SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(1000).default(100),
  SUBSCRIPTION_CONNECTIONS_PER_SESSION: z.coerce.number().int().min(1).max(1000).default(10),
  SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(100),
  SUBSCRIPTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  SUBSCRIPTION_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(65_536),
  SUBSCRIPTION_MAX_QUEUED_EVENTS: z.coerce.number().int().min(1).max(100_000).default(500),
  SUBSCRIPTION_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .max(64 * 1_048_576)
    .default(1_048_576),
  // Live data with a budget (issue 27): estimated rows per event, summed over subscriptions.
  SUBSCRIPTION_COST_PER_CONNECTION: z.coerce.number().int().min(10).max(10_000_000).default(2000),
  SUBSCRIPTION_COST_PER_USER: z.coerce.number().int().min(10).max(10_000_000).default(5000),
  SUBSCRIPTION_MAX_EVENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1_048_576)
    .default(262_144),
  // Storm (issue 25): one rendering of an event per distinct permission outcome; `off` for the bench.
  SUBSCRIPTION_RENDER_CACHE: z.enum(["on", "off"]).default("on"),
});

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

function isProxyEntry(entry: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address = "", bits, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
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
