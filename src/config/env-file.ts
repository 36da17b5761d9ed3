import { existsSync } from "node:fs";

/**
 * Loads `.env` (from the working directory) into process.env at start, if the file exists. Variables
 * already set in the environment win, so `PORT=5000 npm start` overrides the file. Uses Node's own
 * parser (process.loadEnvFile, Node ≥ 20.12): no dependency.
 */
export function loadEnvFile(path = ".env"): "loaded" | "absent" | "unsupported" {
  if (!existsSync(path)) return "absent";
  if (typeof process.loadEnvFile !== "function") return "unsupported";
  process.loadEnvFile(path);
  return "loaded";
}
