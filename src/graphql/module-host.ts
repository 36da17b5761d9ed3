import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { HoldfastDatabase, ModuleEvents } from "./public-context.js";

/** What a module's `setup` receives, once, before the server answers its first request. */
export interface ModuleHost {
  /** The database Holdfast uses, to share its connection (a module may bring its own instead). */
  readonly database: HoldfastDatabase;
  /** Publishing only: subscribing is for a subscription field's `subscribe`. */
  readonly events: Pick<ModuleEvents, "publish">;
  readonly clock: Clock;
  /** A child logger that names the module. */
  readonly logger: Logger;
}
