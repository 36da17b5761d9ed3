// The request log does its work only for a line that is written: at LOG_LEVEL=warn a 200 answer
// builds no line at all (no object, no SHA-256 fingerprint of the credential).
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createServer, type HoldfastServer } from "../../src/server/create-server.js";
import { DEMO_MODULES } from "../support/demo-modules.js";
import { createTestDatabase } from "../support/test-db.js";
import { REGISTER, TEST_ENV, TEST_PASSWORD } from "../support/test-server.js";

let server: HoldfastServer | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await server?.close();
  await close?.();
  server = undefined;
});

async function start(level: "warn" | "info") {
  const database = await createTestDatabase();
  close = () => database.close();
  const logger = pino({ level }, { write: () => {} });
  const handed: unknown[] = [];
  // Whatever the request log hands to `info` is work done for the line.
  const info = logger.info.bind(logger);
  logger.info = ((...args: unknown[]) => {
    handed.push(args[0]);
    return (info as (...a: unknown[]) => void)(...args);
  }) as typeof logger.info;
  const config = loadConfig({ ...TEST_ENV, LOG_LEVEL: level, DATABASE_URL: database.url });
  server = await createServer({ config, database, logger, modules: DEMO_MODULES });
  const gql = async (query: string, token?: string, variables: Record<string, unknown> = {}) =>
    server!.app.inject({
      method: "POST",
      url: "/graphql",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: JSON.stringify({ query, variables }),
    });
  const registered = await gql(REGISTER, undefined, {
    input: {
      email: `log-${level}@example.com`,
      password: TEST_PASSWORD,
      displayName: "Log",
      refreshTokenDelivery: "BODY",
    },
  });
  const token = registered.json().data.register.accessToken as string;
  const requestLines = () => handed.filter((a) => typeof a === "object" && a !== null && "reqId" in a);
  return { gql, token, requestLines };
}

describe("request log and the log level", () => {
  it("builds no request line at LOG_LEVEL=warn, where it would be dropped", async () => {
    const t = await start("warn");
    const before = t.requestLines().length;
    for (let i = 0; i < 3; i++) expect((await t.gql("{ me { id } }", t.token)).statusCode).toBe(200);
    expect(t.requestLines().length - before).toBe(0);
  });

  it("writes the line, with the credential's fingerprint, at LOG_LEVEL=info", async () => {
    const t = await start("info");
    const before = t.requestLines().length;
    await t.gql("{ me { id } }", t.token);
    const lines = t.requestLines().slice(before) as { tokenFp?: string }[];
    expect(lines).toHaveLength(1);
    expect(lines[0]!.tokenFp).toMatch(/^[A-Za-z0-9_-]{10}$/);
  });
});
