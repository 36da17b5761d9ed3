// Start-up against a database that cannot serve this release stops with one line naming the
// problem and the fix; a SQLite file that vanishes while running makes /readyz report the database down.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { DatabaseStartupError } from "../../src/db/startup-check.js";
import { freePort } from "../support/private-services.js";
import { createEmptyDatabase } from "../support/shared-services.js";
import { startTestServer } from "../support/test-server.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function startupError(url: string): Promise<unknown> {
  try {
    const db = await openDatabase({ url, provider: "postgres", poolSize: 1, autoMigrate: false });
    await db.close();
    return null;
  } catch (error) {
    return error;
  }
}

describe("start-up against a database that cannot serve this release", () => {
  it("an unmigrated PostgreSQL database: run npx holdfast migrate", async () => {
    const empty = await createEmptyDatabase("holdfast_startup");
    try {
      const error = await startupError(empty.url);
      expect(error).toBeInstanceOf(DatabaseStartupError);
      expect((error as Error).message).toMatch(/not migrated: run `npx holdfast migrate`/);
      expect((error as Error).message).not.toContain("\n");
    } finally {
      await empty.drop();
    }
  });

  it("a database that does not exist: create it or fix DATABASE_URL", async () => {
    const error = await startupError("postgresql://postgres@127.0.0.1:5432/holdfast_startup_absent");
    expect(error).toBeInstanceOf(DatabaseStartupError);
    expect((error as Error).message).toMatch(/does not exist: .*DATABASE_URL.*npx holdfast migrate/);
  });

  it("an unreachable server: start it or fix DATABASE_URL", async () => {
    const error = await startupError(`postgresql://postgres@127.0.0.1:${await freePort()}/holdfast`);
    expect(error).toBeInstanceOf(DatabaseStartupError);
    expect((error as Error).message).toMatch(/cannot reach the database .*DATABASE_URL/);
  });

  it("the production entry point prints that one line and exits 1, without a trace", async () => {
    const empty = await createEmptyDatabase("holdfast_startup");
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          DATABASE_URL: empty.url,
          PORT: "0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c));
      child.stderr.on("data", (c: Buffer) => (stderr += c));
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      expect(code).toBe(1);
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 60,
        msg: expect.stringMatching(/npx holdfast migrate/),
      });
      expect(stderr).toBe("");
    } finally {
      await empty.drop();
    }
  }, 120_000);
});

describe("/readyz on the embedded default", () => {
  it("reports the database down once the SQLite file is deleted under the running server", async () => {
    // The embedded default whatever TEST_DATABASE says.
    const dir = mkdtempSync(join(tmpdir(), "holdfast-readyz-"));
    const url = `file:${join(dir, "holdfast.db")}`;
    const database = await openDatabase({ url, provider: "sqlite", poolSize: 1, autoMigrate: true });
    const t = await startTestServer({}, { database: Object.assign(database, { url }) });
    try {
      const ready = await t.server.app.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(200);
      rmSync(dir, { recursive: true, force: true });
      const gone = await t.server.app.inject({ method: "GET", url: "/readyz" });
      expect(gone.statusCode).toBe(503);
      expect(gone.json()).toMatchObject({ checks: { database: "down" } });
    } finally {
      await t.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
