import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";

// Every setting Holdfast reads, by environment variable name, with its type, bounds and default
// (.env.example documents each). Parsed only by loadConfig (config.ts).

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

export const envSchema = z.object({
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
  // Holdfast's own GraphQL IDE at GET /graphql (GraphiQL, bundled from npm at start; needs devDependencies).
  GRAPHQL_IDE: bool.optional(),

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

function isProxyEntry(entry: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address = "", bits, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}
