// SIGTERM to `src/server/main.ts` (the production entry point) while a slow request is in flight.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/private-services.js";
import {
  CLUSTER_ENV,
  clearRedisPrefix,
  createThrowawayDatabase,
  gql,
  LOGIN,
  PASSWORD,
  REGISTER,
  SHARED_REDIS_URL,
  sleep,
  type ThrowawayDatabase,
  uniqueRedisPrefix,
  within,
} from "./cluster.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

let db: ThrowawayDatabase;
let prefix: string;

beforeAll(async () => {
  db = await createThrowawayDatabase();
  prefix = uniqueRedisPrefix();
});

afterAll(async () => {
  await db?.drop();
  if (prefix) await clearRedisPrefix(prefix);
});

/** Resolves true when a TCP connection to the port is refused, false when it is accepted. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

describe("graceful shutdown", () => {
  it("finishes an in-flight login after SIGTERM, refuses new connections, closes pools and exits 0", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...CLUSTER_ENV,
        LOG_LEVEL: "info",
        DATABASE_URL: db.url,
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        HOST: "127.0.0.1",
        PORT: String(port),
        // Expensive argon2 (about a second a hash here), so that a login is surely still hashing
        // when the signal arrives 150 ms after it was sent, however fast or loaded the machine.
        ARGON2_MEMORY_KIB: "131072",
        ARGON2_TIME_COST: "12",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      const logs: string[] = [];
      createInterface({ input: child.stdout! }).on("line", (line) => logs.push(line));
      const up = await within(60_000, async () => logs.some((l) => l.includes("Holdfast is up")), 100);
      expect(up).not.toBeNull();
      const origin = `http://127.0.0.1:${port}`;

      const email = `shutdown-${prefix.slice(-9, -1)}@example.com`;
      const registered = await gql(origin, REGISTER, {
        variables: { input: { email, password: PASSWORD, displayName: "S", refreshTokenDelivery: "BODY" } },
      });
      expect(registered.errors).toBeUndefined();

      let answeredAt = 0;
      const slowLogin = gql<{ login: { accessToken: string } }>(origin, LOGIN, {
        variables: { input: { email, password: PASSWORD, refreshTokenDelivery: "BODY" } },
      }).then((answer) => {
        answeredAt = Date.now();
        return answer;
      });
      // Let the request reach the server and start hashing.
      await sleep(150);
      const signalledAt = Date.now();
      child.kill("SIGTERM");

      // The listening socket closes at once: a new connection is refused while the login finishes.
      const closed = await within(2000, () => refused(port), 20);
      expect(closed).not.toBeNull();
      const login = await slowLogin;
      expect(login.status).toBe(200);
      expect(login.errors).toBeUndefined();
      expect(login.data?.login.accessToken).toMatch(/^ey/);
      // It was in flight when the signal came: answered after it, not before.
      expect(answeredAt).toBeGreaterThan(signalledAt);

      expect(await exited).toEqual({ code: 0, signal: null });
      expect(logs.some((l) => l.includes("shutting down"))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
