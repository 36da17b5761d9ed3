// The only place Holdfast listens on a port.
import { loadConfigOrExit } from "../config/config.js";
import { loadEnvFile } from "../config/env-file.js";
import { describeStartupFailure } from "../db/startup-check.js";
import { createLogger } from "../logger.js";
import { createServer, type HoldfastServer } from "./create-server.js";
import { startupBanner } from "./startup-banner.js";

// `.env` fills in what the environment does not set (copy .env.example to start from).
const envFile = loadEnvFile();
if (envFile === "unsupported") console.warn(".env found but not loaded: Node 20.12 or newer reads it");
const config = loadConfigOrExit();
const logger = createLogger(config.log);

let server: HoldfastServer;
try {
  server = await createServer({ config, logger });
} catch (error) {
  // A database that cannot serve this release: one line with the problem and the fix, not a trace.
  const problem = describeStartupFailure(error, config.database.url);
  if (!problem) throw error;
  logger.fatal(problem);
  logger.flush();
  process.exit(1);
}
try {
  await server.app.listen({ host: config.server.host, port: config.server.port });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  logger.fatal(
    { code },
    code === "EADDRINUSE"
      ? `port ${config.server.port} is in use: set PORT to another port`
      : "cannot listen",
  );
  await server.close();
  process.exit(1);
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

let stopping = false;
const SHUTDOWN_GRACE_MS = 10_000;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    // Bounded: a stuck request must not keep the process alive forever.
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  });
}
