// SIGTERM to `src/main.ts` (the production entry point) while a slow request is in flight.
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/private-services.js";
import { CLUSTER_ENV, gql, LOGIN, PASSWORD, REGISTER, useCluster, within } from "./cluster.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

// Only the database and Redis: this test starts the production entry point itself.
const cluster = useCluster();

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

/** Resolves once a backend of `db` waits on a lock: the request is in flight, held by the lock. */
async function waitingOnLock(pool: pg.Pool, timeoutMs = 30_000): Promise<void> {
  const waited = await within(
    timeoutMs,
    async () => {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return Number(rows[0]!.n) > 0;
    },
    10,
  );
  if (waited === null) throw new Error("no request reached the database");
}

/** Raw HTTP/1.1 requests written on one socket (pipelined), and the responses read back from it. */
function pipeline(port: number) {
  const socket = connect(port, "127.0.0.1");
  let received = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  return {
    send(query: string, variables: Record<string, unknown> = {}) {
      const body = JSON.stringify({ query, variables });
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
    /** Every response, once the server has closed the connection. */
    async responses() {
      await ended;
      const out: { status: number; headers: Record<string, string>; body: unknown }[] = [];
      let rest = received;
      while (rest.length > 0) {
        const end = rest.indexOf("\r\n\r\n");
        if (end < 0) break;
        const [statusLine, ...headerLines] = rest.subarray(0, end).toString().split("\r\n");
        const headers = Object.fromEntries(
          headerLines.map((l) => [
            l.slice(0, l.indexOf(":")).toLowerCase(),
            l.slice(l.indexOf(":") + 1).trim(),
          ]),
        );
        const length = Number(headers["content-length"] ?? 0);
        const body = rest.subarray(end + 4, end + 4 + length).toString();
        out.push({
          status: Number(statusLine!.split(" ")[1]),
          headers,
          body: body ? JSON.parse(body) : null,
        });
        rest = rest.subarray(end + 4 + length);
      }
      return out;
    },
  };
}

/** One POST on a keep-alive agent: the status and the `Connection` header of its answer. */
function keepAliveQuery(
  agent: Agent,
  port: number,
  body: string,
): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

/** Starts `src/main.ts` on a free port; resolves once it logged that it is up. */
async function startMain(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...CLUSTER_ENV,
      LOG_LEVEL: "info",
      ...env,
      HOST: "127.0.0.1",
      PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const logs: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => logs.push(line));
  const up = await within(60_000, async () => logs.some((l) => l.includes("Holdfast is up")), 100);
  if (up === null) {
    child.kill("SIGKILL");
    throw new Error(`main.ts did not start: ${logs.join("\n")}`);
  }
  return { port, child, exited, logs };
}

describe("graceful shutdown", () => {
  it("under keep-alive load, answers with Connection: close after SIGTERM, closes idle keep-alive sockets and exits 0 within 3 s", async () => {
    const { port, child, exited, logs } = await startMain(cluster.env);
    const locker = new pg.Client({ connectionString: cluster.db.url });
    locker.on("error", () => {});
    // Keep-alive clients as a load balancer or the SDK keeps them: sockets stay open between requests.
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 8 });
    try {
      const typename = JSON.stringify({ query: "{ __typename }" });
      const warm = await Promise.all(Array.from({ length: 8 }, () => keepAliveQuery(agent, port, typename)));
      expect(warm.every((a) => a.status === 200 && a.connection === "keep-alive")).toBe(true);

      // One request held in flight by a lock on the table it reads: it is answered after SIGTERM.
      await locker.connect();
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE holdfast."User" IN ACCESS EXCLUSIVE MODE`);
      const held = keepAliveQuery(
        agent,
        port,
        JSON.stringify({
          query: LOGIN,
          variables: { input: { email: "nobody@example.com", password: PASSWORD } },
        }),
      );
      await waitingOnLock(cluster.db.pool);
      const signalledAt = performance.now();
      child.kill("SIGTERM");
      const draining = await within(10_000, async () => logs.some((l) => l.includes("shutting down")), 5);
      expect(draining).not.toBeNull();
      await locker.query("COMMIT");
      const answer = await held;
      expect(answer.status).toBe(200);
      // Told not to reuse the connection, so the client opens its next one elsewhere.
      const connectionHeader = answer.connection;

      expect(await exited).toEqual({ code: 0, signal: null });
      const seconds = (performance.now() - signalledAt) / 1000;
      expect(seconds).toBeLessThan(3);
      expect(connectionHeader).toBe("close");
    } finally {
      agent.destroy();
      await locker.end().catch(() => {});
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 240_000);

  it("finishes an in-flight login after SIGTERM with Connection: close, leaves a request pipelined behind it unprocessed, refuses new connections and exits 0", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...CLUSTER_ENV,
        LOG_LEVEL: "info",
        ...cluster.env,
        HOST: "127.0.0.1",
        PORT: String(port),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const locker = new pg.Client({ connectionString: cluster.db.url });
    locker.on("error", () => {});
    try {
      const logs: string[] = [];
      createInterface({ input: child.stdout! }).on("line", (line) => logs.push(line));
      const up = await within(60_000, async () => logs.some((l) => l.includes("Holdfast is up")), 100);
      expect(up).not.toBeNull();
      const origin = `http://127.0.0.1:${port}`;

      const email = `shutdown-${cluster.prefix.slice(-9, -1)}@example.com`;
      const registered = await gql(origin, REGISTER, {
        variables: { input: { email, password: PASSWORD, displayName: "S", refreshTokenDelivery: "BODY" } },
      });
      expect(registered.errors).toBeUndefined();

      // The login is held in flight, deterministically, by a lock on the table it reads first; a
      // second request is pipelined behind it on the same connection, as a keep-alive client may.
      await locker.connect();
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE holdfast."User" IN ACCESS EXCLUSIVE MODE`);
      const connection = pipeline(port);
      connection.send(LOGIN, { input: { email, password: PASSWORD, refreshTokenDelivery: "BODY" } });
      await waitingOnLock(cluster.db.pool);
      child.kill("SIGTERM");
      const draining = await within(10_000, async () => logs.some((l) => l.includes("shutting down")), 5);
      expect(draining).not.toBeNull();
      connection.send("{ __typename }");

      // The listening socket closes at once: a new connection is refused while the login waits.
      const closed = await within(2000, () => refused(port), 20);
      expect(closed).not.toBeNull();
      await locker.query("COMMIT");

      const answers = await connection.responses();
      const login = answers[0];
      expect(login?.status).toBe(200);
      expect(login?.body).toMatchObject({ data: { login: { accessToken: expect.stringMatching(/^ey/) } } });
      // The answer closes the connection; the request pipelined behind it gets no answer, which
      // tells the client it was not processed (RFC 9112 §9.6) and may be sent to another instance.
      expect(login?.headers.connection).toBe("close");
      expect(answers).toHaveLength(1);

      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      await locker.end().catch(() => {});
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 240_000);
});
