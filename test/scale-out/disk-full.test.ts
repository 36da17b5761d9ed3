// Issue 25, finding 5: the embedded default on a full disk. The server's SQLite file lives on a tmpfs
// of its own, filled with a ballast file and freed by deleting it: a real ENOSPC, met wherever SQLite
// meets it (a statement, the COMMIT, the WAL), which `PRAGMA max_page_count` cannot imitate — it
// fails only the statement that needs a page, and that path never left Prisma's transaction lock
// held. Mounting needs root (CAP_SYS_ADMIN), as the outage tests' private servers do.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_TIMEOUT_MS } from "../../src/db/database.js";
import { freePort } from "../support/private-services.js";
import {
  CLUSTER_ENV,
  errorOf,
  type GraphQLAnswer,
  gql,
  type Instance,
  PASSWORD,
  REGISTER,
  registerUser,
  within,
} from "./cluster.js";

const run = promisify(execFile);
const mountPoint = mkdtempSync(join(tmpdir(), "holdfast-disk-full-"));
const ballast = join(mountPoint, "ballast");
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `src/main.ts` (the composition root, which owns the SIGTERM handling), with its data on `mountPoint`. */
async function startMain(): Promise<Instance & { child: ChildProcess }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...CLUSTER_ENV,
      LOG_LEVEL: "info",
      DATABASE_URL: `file:${join(mountPoint, "holdfast.db")}`,
      HOST: "127.0.0.1",
      PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const logs: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => logs.push(line));
  if ((await within(60_000, async () => logs.some((l) => l.includes("Holdfast is up")), 100)) === null) {
    child.kill("SIGKILL");
    throw new Error(`main.ts did not start: ${logs.join("\n")}`);
  }
  return {
    name: "embedded",
    origin,
    pid: child.pid!,
    logs,
    child,
    exited,
    gql: (query, options) => gql(origin, query, options),
    async get(path) {
      const response = await fetch(`${origin}${path}`);
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

let server: (Instance & { child: ChildProcess }) | undefined;

beforeAll(async () => {
  await run("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint]);
  server = await startMain();
});

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null)
    server.child.kill("SIGKILL");
  await run("umount", ["-l", mountPoint]).catch(() => {});
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills what is left of the file system (dd stops with ENOSPC, which is the point). */
async function fillDisk(): Promise<void> {
  await run("dd", ["if=/dev/zero", `of=${ballast}`, "bs=4k"]).catch(() => {});
}

/** The answer, and how long it took; a request that hangs is cut off well past the bound. */
async function timed<T>(request: (signal: AbortSignal) => Promise<GraphQLAnswer<T>>) {
  const started = performance.now();
  const answer = await request(AbortSignal.timeout(DATABASE_TIMEOUT_MS * 3));
  return { answer, ms: performance.now() - started };
}

function expectRetryable503(answer: GraphQLAnswer<unknown>, what: string): void {
  expect(answer.status, what).toBe(503);
  expect(errorOf(answer)?.code, what).toBe("SERVICE_UNAVAILABLE");
  expect(answer.errors?.[0]?.extensions?.retryable, what).toBe(true);
}

describe("the embedded default on a full disk", () => {
  it("answers a retryable 503 within the database bound, is not ready while writes fail, recovers by itself, and exits 0 on SIGTERM", async () => {
    const s = server!;
    const [first, second] = [await registerUser(s), await registerUser(s)];
    await fillDisk();

    const attempts = {
      logout: (signal: AbortSignal) => s.gql("mutation { logout }", { token: first.accessToken, signal }),
      logoutEverywhere: (signal: AbortSignal) =>
        s.gql("mutation { logoutEverywhere }", { token: second.accessToken, signal }),
      register: (signal: AbortSignal) =>
        s.gql(REGISTER, {
          variables: {
            input: {
              email: "full@example.com",
              password: PASSWORD,
              displayName: "Full",
              refreshTokenDelivery: "BODY",
            },
          },
          signal,
        }),
    };
    // Twice each: after the first failure, the next ones must not wait on what it left behind.
    for (const round of [1, 2]) {
      for (const [name, attempt] of Object.entries(attempts)) {
        const { answer, ms } = await timed(attempt);
        expectRetryable503(answer, `${name} (round ${round})`);
        expect(ms, `${name} answered within the database bound`).toBeLessThan(DATABASE_TIMEOUT_MS + 1000);
      }
    }
    const notReady = await s.get("/readyz");
    expect(notReady.status).toBe(503);
    expect((notReady.body as { checks: Record<string, string> }).checks.database).toBe("down");

    // Space comes back: readiness and writes return without a restart.
    rmSync(ballast);
    expect(await within(10_000, async () => (await s.get("/readyz")).status === 200)).not.toBeNull();
    const logout = await s.gql<{ logout: boolean }>("mutation { logout }", { token: first.accessToken });
    expect(logout.data?.logout).toBe(true);

    // Full again, one failed write, then a deploy's SIGTERM: a clean exit.
    await fillDisk();
    expectRetryable503((await timed(attempts.logoutEverywhere)).answer, "logoutEverywhere before SIGTERM");
    const stopping = performance.now();
    await s.stop();
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - stopping).toBeLessThan(DATABASE_TIMEOUT_MS);
  });
});
