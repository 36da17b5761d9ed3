// The layering rules of .dependency-cruiser.cjs (npm run lint:deps), tried on throwaway trees laid
// out like src/: a tree whose arrows point down passes, and every deliberately wrong import in
// another is refused under the rule it breaks, with a failing exit status.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const depcruise = join(root, "node_modules", ".bin", "depcruise");
const config = join(root, ".dependency-cruiser.cjs");
const trees: string[] = [];

afterAll(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

function lint(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(depcruise, ["src", "--config", config], { cwd, encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** Writes `files` (path → the paths it imports) as a TypeScript tree and lints it as lint:deps does. */
function lintTree(files: Record<string, string[]>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-deps-"));
  trees.push(dir);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
  );
  for (const [file, imports] of Object.entries(files)) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    const up = dirname(file)
      .split("/")
      .map(() => "..")
      .join("/");
    const lines = imports.map(
      (target, i) => `import * as m${i} from "${up}/${target.replace(/\.ts$/, ".js")}";`,
    );
    writeFileSync(join(dir, file), `${lines.join("\n")}\nexport const here = 1;\n`);
  }
  return lint(dir);
}

// A tree that keeps every rule (the shape of src/); the wrong imports below are added to it.
const lawful: Record<string, string[]> = {
  "src/errors/app-error.ts": [],
  "src/clock.ts": [],
  "src/roles.ts": [],
  "src/pagination.ts": ["src/errors/app-error.ts"],
  "src/db/database.ts": ["src/errors/app-error.ts"],
  "src/users/user-service.ts": ["src/db/database.ts", "src/roles.ts", "src/pagination.ts"],
  "src/index.ts": ["src/graphql/schema.ts", "src/errors/app-error.ts", "src/pagination.ts"],
  "src/modules/notes/note-service.ts": ["src/index.ts"],
  "src/main.ts": ["src/index.ts", "src/modules/notes/note-service.ts"],
  "src/auth/viewer.ts": [],
  "src/auth/auth-service.ts": ["src/users/user-service.ts", "src/auth/viewer.ts", "src/roles.ts"],
  "src/authz/scope-catalogue.ts": ["src/roles.ts"],
  "src/authz/shield.ts": ["src/authz/scope-catalogue.ts", "src/errors/app-error.ts"],
  "src/graphql/context.ts": ["src/auth/viewer.ts"],
  "src/graphql/schema.ts": ["src/authz/shield.ts", "src/graphql/context.ts"],
  "src/server/create-server.ts": ["src/graphql/schema.ts", "src/auth/auth-service.ts", "src/clock.ts"],
  "src/client/index.ts": [],
};

// One wrong import per rule: [what, from, to, the rule that must refuse it].
const wrong: [string, string, string, string][] = [
  [
    "a service importing GraphQL",
    "src/users/user-service.ts",
    "src/graphql/context.ts",
    "services-below-graphql",
  ],
  [
    "authz importing src/graphql",
    "src/authz/scope-catalogue.ts",
    "src/graphql/context.ts",
    "graphql-only-from-server",
  ],
  [
    "auth importing the server",
    "src/auth/auth-service.ts",
    "src/server/create-server.ts",
    "services-below-graphql",
  ],
  [
    "authz importing a service",
    "src/authz/shield.ts",
    "src/auth/viewer.ts",
    "authz-decides-without-services",
  ],
  [
    "authz querying the database",
    "src/authz/shield.ts",
    "src/db/database.ts",
    "authz-decides-without-services",
  ],
  [
    "a service importing policy",
    "src/auth/auth-service.ts",
    "src/authz/scope-catalogue.ts",
    "services-know-no-policy",
  ],
  ["users importing auth", "src/users/user-service.ts", "src/auth/viewer.ts", "domain-services-independent"],
  [
    "the core importing a module",
    "src/users/user-service.ts",
    "src/modules/notes/note-service.ts",
    "core-imports-no-module",
  ],
  [
    "a module reaching past the public entry",
    "src/modules/notes/note-service.ts",
    "src/db/database.ts",
    "modules-use-only-the-public-entry",
  ],
  [
    "the client importing server code",
    "src/client/index.ts",
    "src/errors/app-error.ts",
    "client-imports-nothing-server-side",
  ],
  ["a leaf importing a layer", "src/clock.ts", "src/db/database.ts", "leaves-stay-leaves"],
  [
    "the database importing a service",
    "src/db/database.ts",
    "src/users/user-service.ts",
    "db-below-everything",
  ],
  ["a cycle", "src/errors/app-error.ts", "src/pagination.ts", "no-circular"],
];

const literal = (path: string) => path.replaceAll(".", "\\.");

describe("dependency rules (npm run lint:deps)", () => {
  it("passes a tree whose arrows all point down", () => {
    const { status, output } = lintTree(lawful);
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });

  it("refuses every deliberately wrong import, naming the rule it breaks", () => {
    const tree = { ...lawful };
    for (const [, from, to] of wrong) tree[from] = [...(tree[from] ?? []), to];
    const { status, output } = lintTree(tree);
    expect(status).not.toBe(0);
    for (const [what, from, to, rule] of wrong) {
      // A cycle is reported as its path, one module per line.
      const reported = new RegExp(`error ${rule}: ${literal(from)} →\\s+${literal(to)}`);
      expect(output, what).toMatch(reported);
    }
  });

  it("holds for the real src/ tree", () => {
    const { status, output } = lint(root);
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });
});
