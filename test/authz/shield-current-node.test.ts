// graphql-shield 7.6.5's ESM build imports util.isUndefined, which Node 23 removed; the permission
// layer (src/authz/shield.ts) must load and decide on every Node in `engines`. The child process
// runs on this Node with util.isUndefined deleted first, which is what Node 23+ looks like to a
// module, so the check means the same on Node 20 as on Node 24. CI also runs the whole suite on a
// current LTS and starts the server on the others (.ci/run).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const withoutIsUndefined = ["--import", join(here, "fixtures", "without-util-is-undefined.mjs")];

function run(args: string[]) {
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("the permission layer on Node 23+ (no util.isUndefined)", () => {
  it("fails to import graphql-shield's ESM build, as on Node 23+ (the simulation is faithful)", () => {
    const child = run([...withoutIsUndefined, "--input-type=module", "-e", 'await import("graphql-shield")']);
    expect(child.status).not.toBe(0);
    expect(child.stderr).toMatch(/does not provide an export named 'isUndefined'/);
  });

  it("loads src/authz/shield.ts and decides fields in both the enforced and the naive mode", () => {
    const check = join(here, "fixtures", "permission-layer-check.ts");
    const child = run([...withoutIsUndefined, "--import", "tsx", check]);
    // Node 26 warns that module.register (used by tsx) is deprecated; nothing else may be said.
    expect(
      child.stderr.split("\n").filter((l) => l && !/DeprecationWarning|--trace-deprecation/.test(l)),
    ).toEqual([]);
    expect(child.status).toBe(0);
    const { answers } = JSON.parse(child.stdout) as { answers: Record<string, unknown> };
    const anonymous = { data: { open: "open", closed: null }, codes: ["UNAUTHENTICATED"] };
    expect(answers).toEqual({ enforced: anonymous, naive: anonymous });
  });
});
