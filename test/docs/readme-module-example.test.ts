// The README's "Build your API on Holdfast" shows the example project's own code: the module and
// the server entry must be the files examples/projects-api runs, letter for letter.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("README: Build your API on Holdfast", () => {
  const readme = read("README.md");
  const section = readme.slice(
    readme.indexOf("## Build your API on Holdfast"),
    readme.indexOf("## The security console"),
  );
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

  it.each(["examples/projects-api/src/projects.ts", "examples/projects-api/src/main.ts"])(
    "shows %s as it is",
    (path) => {
      expect(blocks).toContain(read(path));
    },
  );
});
