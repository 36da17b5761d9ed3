// Private PostgreSQL and Redis servers that a test may stop and start at will. The shared servers on
// 5432 and 6379 serve every other test at the same time, so outages are only ever staged here.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A port nobody listens on right now (the OS picks it; a race with another binder is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Everything still running at exit is stopped, even when a test run dies before its afterAll. */
const leftovers = new Set<() => void>();
process.once("exit", () => {
  for (const stop of leftovers) {
    try {
      stop();
    } catch {
      // best effort on the way out
    }
  }
});

export interface PrivatePostgres {
  readonly port: number;
  /** URL of a database on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  start(): Promise<void>;
  /** `fast`: clean shutdown (connections terminated); `immediate`: like a crash. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** SIGSTOP to the postmaster and its backends: the server hangs with connections open. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops the server and removes its data directory. Idempotent. */
  destroy(): Promise<void>;
}

/** initdb + pg_ctl as the postgres user (initdb refuses root), on a free port, in a temp dir. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const port = await freePort();
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const asPostgres = (command: string[]) =>
    asRoot ? run("su", ["postgres", "-c", command.map(quote).join(" ")]) : run(command[0]!, command.slice(1));
  // -N: no fsync; a throwaway cluster does not need durability against power loss.
  await asPostgres([`${PG_BIN}/initdb`, "-D", data, "-A", "trust", "-U", "postgres", "-N"]);
  const ctl = (...args: string[]) => asPostgres([`${PG_BIN}/pg_ctl`, "-D", data, ...args]);
  let running = false;
  let destroyed = false;
  let paused = false;
  // This cluster's processes only: the postmaster named in its pid file, and its children.
  const clusterPids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(postmaster)]).toString();
    return [postmaster, ...children.split(/\s+/).filter(Boolean).map(Number)];
  };
  const stopNow = () => {
    if (paused) for (const pid of clusterPids()) process.kill(pid, "SIGCONT");
    const args = ["-D", data, "-m", "immediate", "-w", "stop"];
    if (asRoot) execFileSync("su", ["postgres", "-c", [`${PG_BIN}/pg_ctl`, ...args].map(quote).join(" ")]);
    else execFileSync(`${PG_BIN}/pg_ctl`, args);
  };
  const pg15 = {
    port,
    url: (database = "postgres") => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async createDatabase(name: string) {
      if (!/^[a-z0-9_]+$/.test(name)) throw new Error("database name: lower-case letters, digits, _");
      const client = new pg.Client({ connectionString: pg15.url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return pg15.url(name);
    },
    async start() {
      if (running) return;
      // Only TCP on loopback; the socket lives in the private dir, never in /var/run/postgresql.
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
      await ctl("-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start");
      running = true;
      leftovers.add(stopNow);
    },
    async stop(mode: "fast" | "immediate" = "fast") {
      if (!running) return;
      await ctl("-m", mode, "-w", "-t", "30", "stop");
      running = false;
      leftovers.delete(stopNow);
    },
    pause() {
      for (const pid of clusterPids()) process.kill(pid, "SIGSTOP");
      paused = true;
    },
    resume() {
      for (const pid of clusterPids()) process.kill(pid, "SIGCONT");
      paused = false;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (paused) pg15.resume();
      try {
        await pg15.stop("immediate");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await pg15.start();
  } catch (error) {
    await pg15.destroy();
    throw error;
  }
  return pg15;
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: Redis vanishes as in a crash or a network cut. */
  stop(): Promise<void>;
  /** SIGSTOP: Redis hangs with its connections open (overload, a black-holed network). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  destroy(): Promise<void>;
}

/** redis-server as a child process, without persistence, on a free loopback port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const killNow = () => child?.kill("SIGKILL");
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const spawned = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child = spawned;
      leftovers.add(killNow);
      await new Promise<void>((resolve, reject) => {
        let output = "";
        const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
        spawned.stdout?.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("Ready to accept connections")) {
            clearTimeout(timer);
            resolve();
          }
        });
        spawned.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited with ${code}: ${output}`));
        });
      });
      spawned.removeAllListeners("exit");
      spawned.stdout?.resume();
    },
    async stop() {
      const current = child;
      if (!current) return;
      child = null;
      leftovers.delete(killNow);
      if (current.exitCode !== null || current.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        current.once("exit", () => resolve());
        current.kill("SIGKILL");
      });
      // The port is free once the process is gone; give the kernel a moment to release it.
      await sleep(20);
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    async destroy() {
      redis.resume();
      await redis.stop();
    },
  };
  await redis.start();
  return redis;
}
