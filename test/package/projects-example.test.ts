// A developer's own API on Holdfast, as they would build it: `npm pack` at the root, the tarball
// installed into a project outside the repository (examples/projects-api copied to a temporary
// folder, depending on the tarball and nothing else of ours), its own resolver tests on
// holdfast/testing, then the API started and used from outside: sign in, refresh, subscribe to the
// module's own events, and the socket closed with 4401 on logout.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../support/free-port.js";

const run = promisify(execFile);
// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read by shape in the assertions.
type Json = any;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = join(ROOT, "examples/projects-api");

let work: string;
let project: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "holdfast-example-"));
  // `prepack` builds dist/ first: the tarball is what `npm publish` would send.
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: ROOT,
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const packed = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
  tarball = join(work, packed[0]!.filename);
  project = join(work, "projects-api");
  cpSync(EXAMPLE, project, {
    recursive: true,
    filter: (source) => !/node_modules|\.tgz$/.test(source),
  });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  manifest.dependencies.holdfast = `file:${tarball}`;
  writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2));
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: project,
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed holdfast package, in a project of its own", () => {
  it("ships compiled JS, .d.ts, migrations and the licence: no sources, tests or install scripts", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball], { maxBuffer: 16 * 1024 * 1024 });
    const files = stdout.trim().split("\n");
    for (const expected of [
      "package/dist/index.js",
      "package/dist/index.d.ts",
      "package/dist/testing/index.js",
      "package/dist/cli.js",
      "package/LICENSE",
    ]) {
      expect(files).toContain(expected);
    }
    expect(files.some((f) => f.startsWith("package/prisma/sqlite/migrations/"))).toBe(true);
    expect(
      files.filter(
        (f) => /^package\/(src|test|bench|examples)\//.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
      ),
    ).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(project, "node_modules/holdfast/package.json"), "utf8"));
    expect(manifest.license).toBe("Apache-2.0");
    for (const hook of ["preinstall", "install", "postinstall"])
      expect(manifest.scripts?.[hook]).toBeUndefined();
  });

  it("type-checks the project against the package's .d.ts", async () => {
    await run("npm", ["run", "--silent", "typecheck"], { cwd: project, timeout: 120_000 });
  }, 150_000);

  it("runs the project's own resolver tests on holdfast/testing", async () => {
    const { stdout } = await run("npm", ["test"], { cwd: project, timeout: 180_000 });
    expect(stdout).toMatch(/# pass [1-9]/);
    expect(stdout).toMatch(/# fail 0/);
  }, 200_000);

  it("migrates Holdfast's tables with the holdfast bin", async () => {
    const url = `file:${join(work, "migrated.db")}`;
    const { stdout } = await run("npx", ["holdfast", "migrate"], {
      cwd: project,
      env: { ...process.env, DATABASE_URL: url },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/migrat/i);
    expect(existsSync(join(work, "migrated.db"))).toBe(true);
  }, 90_000);

  describe("started, used from outside", () => {
    let child: ChildProcess;
    let base: string;

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      child = spawn("npm", ["start"], {
        cwd: project,
        env: {
          ...process.env,
          NODE_ENV: "production",
          PORT: String(port),
          HOST: "127.0.0.1",
          PUBLIC_URL: base,
          DATABASE_URL: `file:${join(work, "api.db")}`,
          DATABASE_AUTO_MIGRATE: "true",
          ARGON2_MEMORY_KIB: "1024",
          ARGON2_TIME_COST: "1",
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout?.on("data", (c: Buffer) => (output += c));
      child.stderr?.on("data", (c: Buffer) => (output += c));
      const deadline = Date.now() + 90_000;
      for (;;) {
        const up = await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the API did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }, 120_000);

    afterAll(async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    });

    const graphql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
      const response = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as {
        data?: Record<string, Json>;
        errors?: { extensions?: Record<string, unknown> }[];
      };
    };

    it("signs in, refreshes, streams its own events, and the socket closes with 4401 on logout", async () => {
      const email = `ada-${Date.now()}@example.com`;
      const registered = await graphql(
        `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken scopes } }`,
        {
          input: {
            email,
            password: "correct horse battery",
            displayName: "Ada",
            refreshTokenDelivery: "BODY",
          },
        },
      );
      expect(registered.errors).toBeUndefined();
      // The module's scopes are granted at login, beside the core's.
      expect(registered.data?.register.scopes).toEqual(
        expect.arrayContaining(["projects:read", "projects:write"]),
      );
      expect(registered.data?.register.scopes).not.toContain("projects:read:any");
      const refreshed = await graphql(
        `mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }`,
        { t: registered.data?.register.refreshToken },
      );
      expect(refreshed.errors).toBeUndefined();
      const token = refreshed.data?.refresh.accessToken as string;

      const socket = new WebSocket(`${base.replace("http", "ws")}/graphql`, "graphql-transport-ws");
      const messages: { type: string; id?: string; payload?: Json }[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      const next = (type: string) =>
        new Promise<{ type: string; payload?: Json }>((resolve) => {
          const found = messages.find((m) => m.type === type);
          if (found) return resolve(found);
          socket.on("message", function listen(data) {
            const message = JSON.parse(data.toString());
            if (message.type === type) {
              socket.off("message", listen);
              resolve(message);
            }
          });
        });
      socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
      await next("connection_ack");
      socket.send(
        JSON.stringify({
          type: "subscribe",
          id: "1",
          payload: { query: "subscription { projectEvents { kind project { name budget } } }" },
        }),
      );
      // The stream is open once an event published after it arrives; publish until one does.
      const event = next("next");
      let created = false;
      for (let i = 0; i < 50 && !created; i += 1) {
        const answer = await graphql(
          `mutation { createProject(name: "Live ${i}", budget: 7) { id } }`,
          {},
          token,
        );
        expect(answer.errors).toBeUndefined();
        created = await Promise.race([
          event.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
        ]);
      }
      expect((await event).payload).toMatchObject({
        data: { projectEvents: { kind: "CREATED", project: { budget: 7 } } },
      });

      const loggedOut = await graphql("mutation { logout }", {}, token);
      expect(loggedOut.data?.logout).toBe(true);
      const started = Date.now();
      const close = await closed;
      expect(close).toEqual({ code: 4401, reason: "token_revoked" });
      expect(Date.now() - started).toBeLessThan(1000);
    }, 60_000);

    it("serves the step-up field to a fresh sign-in (the refusal is in the project's own tests)", async () => {
      // A fresh sign-in passes the 300 s window; the refusal itself is covered by the project's
      // own tests and Holdfast's step-up suite. Here: the directive reached the running server.
      const email = `grace-${Date.now()}@example.com`;
      const registered = await graphql(
        `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`,
        { input: { email, password: "correct horse battery", displayName: "Grace" } },
      );
      const token = registered.data?.register.accessToken as string;
      const created = await graphql(
        `mutation { createProject(name: "Doomed", budget: 1) { id } }`,
        {},
        token,
      );
      const deleted = await graphql(
        `mutation($id: ID!) { deleteProject(id: $id) }`,
        { id: created.data?.createProject.id },
        token,
      );
      expect(deleted.data?.deleteProject).toBe(true);
    }, 30_000);
  });
});
