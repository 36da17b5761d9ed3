import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import pino, { type Logger } from "pino";
import type { Config } from "./config/config.js";

/** JSON logs (pretty in development). Redaction is a second line of defence: tokens are never logged whole. */
export function createLogger(config: Config["log"]): Logger {
  return pino({
    level: config.level,
    redact: {
      paths: [
        "password",
        "*.password",
        "refreshToken",
        "*.refreshToken",
        "accessToken",
        "*.accessToken",
        "req.headers.authorization",
        "req.headers.cookie",
        "req.headers.dpop",
      ],
      censor: "[redacted]",
    },
    ...(config.pretty && prettyPrinterInstalled()
      ? {
          transport: {
            target: "pino-pretty",
            options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
          },
        }
      : {}),
  });
}

/** pino-pretty is a devDependency: an application that installed Holdfast logs JSON unless it adds it. */
function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("pino-pretty");
    return true;
  } catch {
    return false;
  }
}

/** A short, non-reversible stand-in for a token in logs: enough to correlate, useless to replay. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("base64url").slice(0, 10);
}
