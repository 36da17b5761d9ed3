import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvFile } from "../../../src/config/env-file.js";
import { withTempFile } from "../../support/temp-dir.js";

const touched = ["HOLDFAST_ENV_FILE_A", "HOLDFAST_ENV_FILE_B", "HOLDFAST_ENV_FILE_C"];
afterEach(() => {
  for (const name of touched) delete process.env[name];
});

describe(".env at start", () => {
  it("loads variables the environment does not set, keeps the ones it does, and reads .env.example's comments", () => {
    withTempFile(
      ".env",
      "# a comment\nHOLDFAST_ENV_FILE_A=4100   # trailing comment\nHOLDFAST_ENV_FILE_B=from-file\nHOLDFAST_ENV_FILE_C=           # blank means default\n",
      (file) => {
        process.env.HOLDFAST_ENV_FILE_B = "from-environment";
        expect(loadEnvFile(file)).toBe("loaded");
        expect(process.env.HOLDFAST_ENV_FILE_A).toBe("4100");
        expect(process.env.HOLDFAST_ENV_FILE_B).toBe("from-environment");
        expect(process.env.HOLDFAST_ENV_FILE_C).toBe("");
      },
    );
  });

  it("is optional", () => {
    expect(loadEnvFile(join(tmpdir(), "no-such-dir-holdfast", ".env"))).toBe("absent");
  });
});
