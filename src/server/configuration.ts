import type { Logger } from "pino";
import type { TokenVerifier } from "../auth/authenticate.js";
import type { ScopeCatalogue } from "../authz/scope-catalogue.js";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config/config.js";
import { type Database, openDatabase } from "../db/database.js";
import type { HoldfastModule } from "../graphql/module-definition.js";
import { createLogger } from "../logger.js";

export interface CreateServerOptions {
  config: Config;
  clock?: Clock;
  /**
   * What stands for the database's clock in refresh decisions (grace, reuse, expiry). Defaults to
   * `clock` when one is given (a test that moves time moves the database's with it), else null:
   * the database's own clock, read in the rotation's statements, so that instances whose clocks
   * differ still decide alike.
   */
  databaseClock?: Clock | null;
  logger?: Logger;
  /** An already open database (tests share one); otherwise opened from config. */
  database?: Database;
  /**
   * Wraps the access-token verifier. For holdfast/testing only: it lets resolver tests run as a viewer
   * with given scopes without minting tokens, through the real authentication and revocation checks.
   */
  wrapTokenVerifier?: (verifier: TokenVerifier) => TokenVerifier;
  /** Your types, composed with the core's (DESIGN.md, "modules"). */
  modules?: readonly HoldfastModule[];
}

/** Step 1 of `createServer`: what every later step reads, with the defaults filled in. */
export interface ServerRuntime {
  readonly config: Config;
  readonly clock: Clock;
  /** See CreateServerOptions.databaseClock; null for the database's own. */
  readonly databaseClock: Clock | null;
  readonly logger: Logger;
  readonly database: Database;
  /** False when the caller passed the database in: then the caller closes it. */
  readonly ownsDatabase: boolean;
  /** The scope catalogue: login grants, the permission guard, OAuth metadata. */
  readonly scopes: ScopeCatalogue;
}

export async function resolveConfiguration(
  options: CreateServerOptions,
  scopes: ScopeCatalogue,
): Promise<ServerRuntime> {
  const { config } = options;
  return {
    config,
    clock: options.clock ?? systemClock,
    databaseClock: options.databaseClock !== undefined ? options.databaseClock : (options.clock ?? null),
    logger: options.logger ?? createLogger(config.log),
    database: options.database ?? (await openDatabase(config.database)),
    ownsDatabase: !options.database,
    scopes,
  };
}
