import type { Services } from "../graphql/context.js";
import type { ServerRuntime } from "./configuration.js";
import type { ServerStores } from "./stores.js";

/**
 * Step 8 of `createServer`: what runs between requests — revocations reloaded from the record when
 * pub/sub cannot deliver, signing keys reloaded and rotated when due. Returns the stop function.
 */
export async function startBackgroundWork(
  { config, logger }: ServerRuntime,
  { keys, infrastructure }: ServerStores,
  { sessions }: Services,
): Promise<() => void> {
  const loaded = await sessions.loadRecentRevocations();
  logger.debug({ loaded }, "loaded recent revocations");
  // Pub/sub is the fast path; the database is the record. Whenever the bus cannot deliver (Redis
  // down, or several PostgreSQL instances without Redis), re-read recent revocations on a timer.
  const resync = () =>
    sessions
      .loadRecentRevocations()
      .catch((error: unknown) => logger.warn({ err: error }, "revocation reload failed"));
  infrastructure.onResync(() => void resync());
  let pollingLogged = false;
  const poll = setInterval(() => {
    if (infrastructure.busHealthy()) {
      pollingLogged = false;
      return;
    }
    if (!pollingLogged) logger.warn("revocations are polled from the database (no pub/sub delivery)");
    pollingLogged = true;
    void resync();
  }, config.revocationPollSeconds * 1000);
  poll.unref();

  const reload = setInterval(() => {
    keys
      .reload()
      .then(() => keys.rotateIfDue())
      .catch((error: unknown) => logger.warn({ err: error }, "signing key reload failed"));
  }, config.keys.reloadIntervalSeconds * 1000);
  reload.unref();

  return () => {
    clearInterval(poll);
    clearInterval(reload);
  };
}
