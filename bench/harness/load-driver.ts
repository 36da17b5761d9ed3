import type { Sample } from "./measurement.js";

/**
 * A prepared load against one scenario's server. The harness calls `run` once per slice, taking
 * turns with the other scenarios' drivers, so every scenario meets the same background noise.
 * A driver keeps its state between slices (a rotating refresh token, say).
 */
export interface LoadDriver {
  run(seconds: number): Promise<Sample>;
}
