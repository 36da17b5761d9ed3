import type { Services } from "../graphql/context.js";
import type { ServerRuntime } from "./configuration.js";
import { RevocationFreshness } from "./revocation-freshness.js";
import type { ServerStores } from "./stores.js";

/** Reads asked for by held live events are at least this far apart (one in flight at a time). */
const HELD_EVENT_POLL_SPACING_MS = 200;

export interface BackgroundWork {
  /** Whether this instance can vouch for its revocation state now (live data asks before each event). */
  readonly freshness: RevocationFreshness;
  stop(): void;
}

/**
 * Step 8 of `createServer`: what runs between requests — revocations reloaded from the record when
 * pub/sub cannot deliver, signing keys reloaded and rotated when due. Every successful reload is
 * recorded (`freshness`): with the feed unhealthy, live data is delivered only on its word.
 */
const monotonicClock = { now: () => new Date(performance.timeOrigin + performance.now()) };

export async function startBackgroundWork(
  { config, logger }: ServerRuntime,
  { keys, infrastructure }: ServerStores,
  { sessions }: Services,
): Promise<BackgroundWork> {
  const freshness = new RevocationFreshness({
    feedHealthy: () => infrastructure.busHealthy(),
    load: async () => {
      const loaded = await sessions.loadRecentRevocations();
      logger.debug({ loaded }, "loaded recent revocations");
    },
    // Elapsed time between reads that real timers start: the process's monotonic clock, not the
    // injected one (a test that moves its clock by minutes must not make every read look stale).
    clock: monotonicClock,
    // Two polling intervals: one read may fail (a blip) before live data stops.
    staleAfterMs: 2 * config.revocationPollSeconds * 1000,
    minPollSpacingMs: HELD_EVENT_POLL_SPACING_MS,
    onPollError: (error) => logger.warn({ err: error }, "revocation reload failed"),
  });
  await freshness.poll();
  // Pub/sub is the fast path; the database is the record. Whenever the bus cannot deliver (Redis
  // down, or several PostgreSQL instances without Redis), re-read recent revocations on a timer.
  const resync = () =>
    freshness.poll().catch((error: unknown) => logger.warn({ err: error }, "revocation reload failed"));
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

  return {
    freshness,
    stop() {
      clearInterval(poll);
      clearInterval(reload);
      freshness.stop();
    },
  };
}
