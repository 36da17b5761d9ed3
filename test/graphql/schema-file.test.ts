import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { printSchemaSdl } from "../../src/graphql/schema-sdl.js";
import { DEMO_MODULES } from "../support/demo-modules.js";

describe("schema.graphql at the project root", () => {
  it("is current with src/graphql/schema (run `npm run schema` after an SDL change)", () => {
    const committed = readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(printSchemaSdl(DEMO_MODULES));
  });

  it("holds the public operations other tools need", () => {
    const sdl = printSchemaSdl(DEMO_MODULES);
    for (const name of ["login(", "refresh(", "logout:", "narrowToken(", "type Query", "type Mutation"])
      expect(sdl).toContain(name);
  });
});
