import { existsSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { type Config, loadConfig } from "../config/config.js";
import { describeStartupFailure } from "../db/startup-check.js";
import type { HoldfastModule } from "../graphql/module-definition.js";
import { createLogger } from "../logger.js";
import { createServer, type HoldfastServer } from "./create-server.js";
import { DEMO_SOURCE_DIR } from "./demo/build-demo-assets.js";
import { startupBanner } from "./startup-banner.js";

export interface CreateHoldfastOptions {
  /** Your types: each a `defineModule(…)`. The core (accounts, sessions, tokens) is always there. */
  readonly modules?: readonly HoldfastModule[];
  /**
   * Settings by environment variable name (README, "Configuration"); default: the process
   * environment, as `npm start` reads it. Bad values stop here with one error naming each.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface ListenOptions {
  /** Default: PORT (4000). 0 picks a free port. */
  readonly port?: number;
  /** Default: HOST. */
  readonly host?: string;
  /**
   * Close gracefully on SIGTERM and SIGINT, then exit (default true): in-flight requests finish,
   * sockets move to another instance with 1001, pools close. False leaves signals to you.
   */
  readonly handleSignals?: boolean;
}

export interface Holdfast {
  /** The Fastify app: add your own routes and plugins before `listen()`. */
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly logger: Logger;
  /** The assembled server: services, database and key store (tests seed data through it). */
  readonly server: HoldfastServer;
  /** Listens and returns the address (`http://host:port`). */
  listen(options?: ListenOptions): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, closes WebSockets (1001), modules and pools. */
  close(): Promise<void>;
}

/**
 * Holdfast cannot start here: the message names the problem and the fix (a database, a port). It is
 * already in the log, as one fatal line.
 */
export class HoldfastStartError extends Error {
  override readonly name = "HoldfastStartError";
}

/** Bounded: a stuck request must not keep a stopping process alive forever. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Holdfast with your modules, configured from the environment like `npm start`. The database is
 * opened (the embedded default migrates itself), modules are composed and checked — default deny:
 * a field no rule decides stops here, with every such field named — and nothing listens yet.
 */
export async function createHoldfast(options: CreateHoldfastOptions = {}): Promise<Holdfast> {
  const loaded = loadConfig(options.env ? { ...options.env } : undefined);
  const logger = options.logger ?? createLogger(loaded.log);
  const config = withDemoIfShipped(loaded, logger);
  let server: HoldfastServer;
  try {
    server = await createServer({
      config,
      logger,
      modules: options.modules ?? [],
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (error) {
    // A database that cannot serve this release: the problem and the fix in one line, not a trace.
    const problem = describeStartupFailure(error, config.database.url);
    if (problem) {
      logger.fatal(problem);
      logger.flush();
      throw new HoldfastStartError(problem, { cause: error });
    }
    throw error;
  }
  let signalsInstalled = false;

  const close = () => server.close();
  return {
    app: server.app,
    config,
    logger,
    server,
    close,
    async listen(listenOptions = {}) {
      const port = listenOptions.port ?? config.server.port;
      const host = listenOptions.host ?? config.server.host;
      try {
        await server.app.listen({ host, port });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const problem =
          code === "EADDRINUSE" ? `port ${port} is in use: set PORT to another port` : "cannot listen";
        logger.fatal({ code }, problem);
        logger.flush();
        throw new HoldfastStartError(problem, { cause: error });
      }
      logger.info(
        {
          url: `${config.server.publicUrl}${config.server.graphqlPath}`,
          env: config.env,
          database: config.database.provider,
          redis: config.redis !== null,
        },
        startupBanner(config),
      );
      if ((listenOptions.handleSignals ?? true) && !signalsInstalled) {
        signalsInstalled = true;
        exitGracefullyOnSignals(close, logger);
      }
      const address = server.app.server.address();
      return typeof address === "object" && address
        ? `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`
        : String(address);
    },
  };
}

/**
 * The security console (/demo) is the notes demo's page, bundled from the repository's sources at
 * start: an installed package has neither, so there it is off, said once, instead of failing.
 */
function withDemoIfShipped(config: Config, logger: Logger): Config {
  if (!config.http.demo || existsSync(DEMO_SOURCE_DIR)) return config;
  logger.info("the security console (/demo) ships with Holdfast's repository, not its package: off");
  return Object.freeze({ ...config, http: Object.freeze({ ...config.http, demo: false }) });
}

function exitGracefullyOnSignals(close: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "shutting down: finishing in-flight requests");
      const force = setTimeout(() => {
        logger.error("shutdown took too long; exiting");
        process.exit(1);
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "error during shutdown");
          process.exit(1);
        },
      );
    });
  }
}
