import type { Logger } from "pino";
import { ServiceUnavailableError } from "../../errors/app-error.js";
import type { ReplayStore } from "./replay-store.js";

/**
 * The shared (Redis) store while it answers, this instance's memory while it does not. During an
 * outage a proof replayed to *another* instance is not caught; one replayed to the same instance
 * still is. That is the documented degradation: serving requests beats refusing all DPoP traffic.
 */
export class FallbackReplayStore implements ReplayStore {
  private degraded = false;

  constructor(
    private readonly shared: ReplayStore,
    private readonly local: ReplayStore,
    private readonly logger: Logger,
  ) {}

  async remember(jti: string, expiresAt: Date): Promise<boolean> {
    // Always remember locally too, so a replay to this instance is caught across the switch-over.
    const fresh = await this.local.remember(jti, expiresAt);
    try {
      const sharedFresh = await this.shared.remember(jti, expiresAt);
      if (this.degraded) this.logger.info("DPoP replay cache is shared again (Redis back)");
      this.degraded = false;
      return fresh && sharedFresh;
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      if (!this.degraded)
        this.logger.warn("Redis down: DPoP replay detection falls back to this instance only");
      this.degraded = true;
      return fresh;
    }
  }
}
