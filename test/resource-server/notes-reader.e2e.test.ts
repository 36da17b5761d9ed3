// End to end, in separate processes: Holdfast (test/support/server-process.ts) and the example
// service examples/notes-reader/service.ts, which trusts Holdfast's tokens through
// holdfast/resource-server. A client logs in at Holdfast, calls the service, logs out, and the service
// must refuse the token: within 1 s with Redis, within the poll interval without.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type Instance, PUBLIC_URL, startInstance, within } from "../scale-out/cluster.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import { boundHeaders } from "./dpop-for-service.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVICE = fileURLToPath(new URL("../../examples/notes-reader/service.ts", import.meta.url));
const SERVICE_PUBLIC_URL = "http://notes-reader.test";
const CLIENT_ID = "notes-reader";
const CLIENT_SECRET = "notes-reader-e2e-secret-0123456789";
const PASSWORD = "correct horse battery staple";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHoldfast(env: Record<string, string>): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-e2e-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const holdfast = await startInstance("holdfast", {
    DATABASE_URL: `file:${join(dir, "holdfast.db")}`,
    INTROSPECTION_CLIENTS: `${CLIENT_ID}:${CLIENT_SECRET}`,
    ...env,
  });
  cleanups.push(() => holdfast.stop());
  return holdfast;
}

interface Service {
  readonly origin: string;
  whoami(headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function startService(holdfast: Instance, env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVICE], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      PUBLIC_URL: SERVICE_PUBLIC_URL,
      HOLDFAST_URL: PUBLIC_URL,
      HOLDFAST_INTERNAL_URL: holdfast.origin,
      INTROSPECTION_CLIENT_ID: CLIENT_ID,
      INTROSPECTION_CLIENT_SECRET: CLIENT_SECRET,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => stop(child));
  const port = await new Promise<number>((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
    child.once("exit", (code) => reject(new Error(`service exited (${code}): ${stderr}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    async whoami(headers) {
      const response = await fetch(`${origin}/whoami`, { headers });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Holdfast and the service on the shared Redis, under a key prefix of their own. */
async function startBothOnRedis(): Promise<{ holdfast: Instance; service: Service }> {
  const prefix = uniqueRedisPrefix();
  cleanups.push(() => clearRedisPrefix(prefix));
  const redisEnv = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const holdfast = await startHoldfast(redisEnv);
  // No polling: the Redis feed alone must carry the revocation.
  const service = await startService(holdfast, { ...redisEnv, INTROSPECTION_CLIENT_ID: "" });
  return { holdfast, service };
}

async function signIn(
  holdfast: Instance,
  dpop?: string,
): Promise<{ accessToken: string; tokenType: string }> {
  const email = `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const answer = await holdfast.gql<{ register: { accessToken: string; tokenType: string } }>(
    `mutation { register(input: { email: "${email}", password: "${PASSWORD}", displayName: "E2E" }) { accessToken tokenType } }`,
    dpop ? { dpop } : {},
  );
  if (!answer.data?.register) throw new Error(`register failed: ${JSON.stringify(answer.errors)}`);
  return answer.data.register;
}

// Two processes start per test (tsx compiles on the fly): on a busy machine that alone can take tens of
// seconds, so the test timeout is sized to it; the revocation bounds are asserted after both are up.
describe("examples/notes-reader trusts Holdfast's tokens, and their revocation (separate processes)", {
  timeout: 180_000,
}, () => {
  it("with Redis: a logged-out token is refused by the service within 1 s", async () => {
    const { holdfast, service } = await startBothOnRedis();
    const { accessToken } = await signIn(holdfast);
    const before = await service.whoami({ authorization: `Bearer ${accessToken}` });
    expect(before.status).toBe(200);

    const logout = await holdfast.gql<{ logout: boolean }>("mutation { logout }", { token: accessToken });
    expect(logout.data?.logout).toBe(true);
    const elapsed = await within(
      1000,
      async () =>
        (await service.whoami({ authorization: `Bearer ${accessToken}` })).body.reason === "token_revoked",
      20,
    );
    expect(elapsed, "refused within 1 s of the logout response").not.toBeNull();
  });

  it("with Redis: a DPoP-bound token needs a proof for the service's URL, and dies with its session", async () => {
    const { holdfast, service } = await startBothOnRedis();
    const key = await boundHeaders();
    const { accessToken, tokenType } = await signIn(
      holdfast,
      await key.proof("POST", `${PUBLIC_URL}/graphql`),
    );
    expect(tokenType).toBe("DPoP");
    const bare = await service.whoami({ authorization: `DPoP ${accessToken}` });
    expect(bare.status).toBe(401);
    expect(bare.body.reason).toBe("dpop_required");
    const proven = await service.whoami({
      authorization: `DPoP ${accessToken}`,
      dpop: await key.proof("GET", `${SERVICE_PUBLIC_URL}/whoami`, accessToken),
    });
    expect(proven.status).toBe(200);

    await holdfast.gql("mutation { logout }", {
      authorization: `DPoP ${accessToken}`,
      dpop: await key.proof("POST", `${PUBLIC_URL}/graphql`, accessToken),
    });
    const elapsed = await within(
      1000,
      async () =>
        (
          await service.whoami({
            authorization: `DPoP ${accessToken}`,
            dpop: await key.proof("GET", `${SERVICE_PUBLIC_URL}/whoami`, accessToken),
          })
        ).body.reason === "token_revoked",
      20,
    );
    expect(elapsed).not.toBeNull();
  });

  it("without Redis: a logged-out token is refused within the poll interval", async () => {
    const pollSeconds = 1;
    const holdfast = await startHoldfast({});
    const service = await startService(holdfast, { POLL_SECONDS: String(pollSeconds) });
    const { accessToken } = await signIn(holdfast);
    expect((await service.whoami({ authorization: `Bearer ${accessToken}` })).status).toBe(200);

    await holdfast.gql("mutation { logout }", { token: accessToken });
    // The bound is one poll interval plus the poll's own round trip (documented in the README).
    const elapsed = await within(
      pollSeconds * 1000 + 500,
      async () =>
        (await service.whoami({ authorization: `Bearer ${accessToken}` })).body.reason === "token_revoked",
      20,
    );
    expect(elapsed, `refused within ${pollSeconds} s (+ one poll)`).not.toBeNull();
  });
});
