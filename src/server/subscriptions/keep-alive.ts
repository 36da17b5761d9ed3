import type { WebSocket } from "ws";

/**
 * WebSocket pings: a peer that vanished without a close (no pong since the last ping) is
 * dropped after two intervals.
 */
export class KeepAlive {
  private readonly beats = new Map<WebSocket, () => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => {
      for (const beat of this.beats.values()) beat();
    }, intervalMs);
    this.timer.unref();
  }

  watch(socket: WebSocket): void {
    let alive = true;
    socket.on("pong", () => {
      alive = true;
    });
    this.beats.set(socket, () => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    });
    socket.once("close", () => this.beats.delete(socket));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
