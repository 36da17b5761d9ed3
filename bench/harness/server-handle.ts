import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER_PROCESS = fileURLToPath(new URL("../server-process.ts", import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
// Must match bench/server-process.ts (not imported: that module starts a server when loaded).
const READY_MARKER = "holdfast-bench-ready";
const START_TIMEOUT_MS = 30_000;

/** Server settings every scenario starts from; a scenario's own env overrides them. */
export const BENCH_SERVER_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  LOG_LEVEL: "warn",
  // Cheap argon2: only register/login hash passwords, and they are setup here, never measured.
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  // A fresh database's first key signs at once either way; this keeps later keys from waiting.
  KEY_PUBLISH_DELAY_SECONDS: "0",
  // All bench clients share 127.0.0.1: the per-IP limits still count every attempt (their cost is
  // measured) but must not refuse a load that is one client address by construction.
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  // The longest lifetime (900 s): tokens registered while the servers start, and revocations
  // seeded before, stay valid through every slice of a run (run.ts bounds a run below that).
  ACCESS_TOKEN_TTL_SECONDS: "900",
  // Required with REDIS_URL in production; the same on every instance of a run.
  REVOCATION_CHANNEL_SECRET: "bench revocation channel secret, 32+ characters long",
};

export interface ServerHandle {
  /** e.g. http://127.0.0.1:41234 */
  readonly origin: string;
  readonly graphqlUrl: string;
  readonly pid: number;
  /** Revoked sessions the server loaded into its RevocationSet at start. */
  readonly revocationsAtStart: number;
  /** CPU time the server process has used so far, all threads (Linux; NaN elsewhere). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Sum of the first field of /proc/<pid>/task/<tid>/schedstat: nanoseconds each thread spent on a
 * CPU. Unlike wall time, this barely moves when other processes crowd the machine.
 */
function processCpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return ns / 1e9;
  } catch {
    return Number.NaN;
  }
}

const running = new Set<ServerHandle>();

/** Stops every server this process started (on Ctrl-C or a kill, so none outlives the bench). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

async function freeLoopbackPort(): Promise<number> {
  const probe = createNetServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const address = probe.address();
  probe.close();
  await once(probe, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Starts bench/server-process.ts as a child process (node + tsx, the same code path as `npm start`)
 * with only the given environment plus PATH/HOME, so the caller's shell cannot change the config.
 */
export async function startServer(env: Readonly<Record<string, string>>): Promise<ServerHandle> {
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...BENCH_SERVER_ENV,
      ...env,
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: origin,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = await waitForReady(child);
  let stopped: Promise<void> | undefined;
  const handle: ServerHandle = {
    origin,
    graphqlUrl: `${origin}/graphql`,
    pid: child.pid!,
    revocationsAtStart: ready.revocations,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    stop() {
      running.delete(handle);
      stopped ??= stop(child);
      return stopped;
    },
  };
  running.add(handle);
  return handle;
}

function waitForReady(child: ChildProcess): Promise<{ revocations: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    let isReady = false;
    lines.on("line", (line) => {
      if (!isReady && line.includes(READY_MARKER)) {
        isReady = true;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { revocations: number });
        return;
      }
      // Server log lines (LOG_LEVEL=warn and up) stay visible, apart from the table on stdout.
      process.stderr.write(`[server ${child.pid}] ${line}\n`);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!isReady) reject(new Error(`server exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
