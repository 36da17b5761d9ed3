import type { Viewer } from "../../auth/viewer.js";
import type { Clock } from "../../clock.js";
import type { LiveConnection } from "./live-connection.js";

/**
 * This instance's live WebSocket connections, indexed by session (revocation closes a session's
 * connections) and counted by client address (the per-address limit).
 */
export class ConnectionRegistry {
  private readonly all = new Set<LiveConnection>();
  private readonly bySession = new Map<string, Set<LiveConnection>>();
  private readonly perAddress = new Map<string, number>();
  /** Summed subscription cost per user, over this instance's connections (the per-user budget). */
  private readonly costPerUser = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.all.size;
  }

  connections(): IterableIterator<LiveConnection> {
    return this.all.values();
  }

  addressCount(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  add(connection: LiveConnection): void {
    this.all.add(connection);
    this.perAddress.set(connection.address, this.addressCount(connection.address) + 1);
  }

  remove(connection: LiveConnection): void {
    if (!this.all.delete(connection)) return;
    this.unbind(connection);
    const left = this.addressCount(connection.address) - 1;
    if (left > 0) this.perAddress.set(connection.address, left);
    else this.perAddress.delete(connection.address);
  }

  userCost(userId: string): number {
    return this.costPerUser.get(userId) ?? 0;
  }

  /** Adds (or, negative, removes) subscription cost held by a user. */
  chargeUser(userId: string, cost: number): void {
    const total = this.userCost(userId) + cost;
    if (total > 0) this.costPerUser.set(userId, total);
    else this.costPerUser.delete(userId);
  }

  sessionCount(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0;
  }

  /** Files the connection under its viewer's session (after init). */
  bind(connection: LiveConnection, sessionId: string): void {
    let set = this.bySession.get(sessionId);
    if (!set) {
      set = new Set();
      this.bySession.set(sessionId, set);
    }
    set.add(connection);
  }

  private unbind(connection: LiveConnection): void {
    const sessionId = connection.viewer?.sessionId;
    if (!sessionId) return;
    const set = this.bySession.get(sessionId);
    set?.delete(connection);
    if (set?.size === 0) this.bySession.delete(sessionId);
  }

  /** The session ended: every connection that holds one of its tokens closes. */
  sessionEnded(sessionId: string, reason: string): void {
    const set = this.bySession.get(sessionId);
    if (!set) return;
    for (const connection of [...set]) connection.close(4401, reason);
  }

  /** Closes every connection that speaks for a session (anonymous ones have no logout to miss). */
  closeSignedIn(code: number, reason: string): void {
    for (const connection of [...this.all]) if (connection.viewer) connection.close(code, reason);
  }

  /**
   * Closes what the clock has ended: a token past its `exp` (not renewed in time), or a session or
   * token revoked (the set is checked as well as `sessionEnded` notified).
   */
  sweep(isRevoked: (viewer: Viewer) => boolean): void {
    const nowSeconds = this.clock.now().getTime() / 1000;
    for (const connection of [...this.all]) {
      const viewer = connection.viewer;
      if (!viewer) continue;
      if (isRevoked(viewer)) connection.close(4401, "token_revoked");
      else if (nowSeconds >= viewer.expiresAt) connection.close(4401, "token_expired");
    }
  }
}
