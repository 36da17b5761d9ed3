// `holdfast migrate`: what an operator sees and the exit codes a deploy script branches on.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Sqlite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { NODE_ENV: "test", ...env },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("holdfast CLI", () => {
  it("prints its usage with --help and exits 0", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-cli-"));
    for (const argv of [["--help"], ["-h"], ["migrate", "--help"]]) {
      const { code, out } = await cli(argv);
      expect(code).toBe(0);
      expect(out).toMatch(/^Usage: holdfast <command>/);
      expect(out).toMatch(/migrate/);
    }
  });

  it("exits 2 with the usage on stderr for no command, an unknown one, or a stray argument", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-cli-"));
    expect(await cli([])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/a command is required[\s\S]*Usage/),
    });
    expect(await cli(["migrat"])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown command "migrat"/),
    });
    expect(await cli(["migrate", "postgres://x"])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unexpected argument/),
    });
  });

  it("migrate applies Holdfast's migrations to DATABASE_URL, then finds nothing to do", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-cli-"));
    const file = join(dir, "app.db");
    const first = await cli(["migrate"], { DATABASE_URL: `file:${file}` });
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/applied \d+_holdfast_baseline/) });
    expect(await cli(["migrate"], { DATABASE_URL: `file:${file}` })).toMatchObject({
      code: 0,
      out: expect.stringMatching(/up to date/),
    });
    const db = new Sqlite(file, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM holdfast_migrations").pluck().get()).toBe(1);
    db.close();
  });

  it("exits 1 with one line naming the problem when the configuration or the database is wrong", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-cli-"));
    const bad = await cli(["migrate"], { DATABASE_URL: "mysql://nope" });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/DATABASE_URL/);
    const absent = await cli(["migrate"], {
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/holdfast_cli_absent",
    });
    expect(absent).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^holdfast migrate: database .* does not exist/),
    });
    expect(absent.err).not.toContain("\n");
  });

  it("runs as a program (npm run db:migrate is the same command)", async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-cli-"));
    const { stdout } = await promisify(execFile)("npx", ["tsx", "src/cli.ts", "migrate"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: "test", DATABASE_URL: `file:${join(dir, "p.db")}` },
    });
    expect(stdout).toMatch(/applied \d+_holdfast_baseline/);
  });
});
