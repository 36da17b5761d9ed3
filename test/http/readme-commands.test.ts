// Every `sh` block of README.md runs as pasted against a started server, in README order and in one
// bash session (a later block may use a variable an earlier one set, as a reader's terminal would).
// A block whose info string is `sh not-run` is not run: installing, starting the server, production
// commands. The only change made to a block is the port: README's localhost:4000 becomes this
// server's, so the test never meets another server on 4000. A block passes when bash exits 0 and
// every answer it prints is a JSON answer without errors (an introspection answer: active).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { fencedBlocks } from "../support/markdown-blocks.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const SECRET = "readme-introspection-secret";

const blocks = fencedBlocks(readFileSync(README, "utf8"), ["sh", "bash"]);
const runnable = blocks.filter((b) => !/\bnot-run\b/.test(b.info));

let t: TestServer;
let port: number;
beforeAll(async () => {
  port = await freePort();
  t = await startTestServer({
    NODE_ENV: "development",
    PUBLIC_URL: `http://localhost:${port}`,
    INTROSPECTION_CLIENTS: `notes-reader:${SECRET}`,
    RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  });
  await t.server.app.listen({ host: "127.0.0.1", port });
});
afterAll(() => t?.close());

/** The JSON documents bash printed, one after another (curl -s prints bodies without newlines). */
function answers(stdout: string): unknown[] {
  const found: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stdout.length; i++) {
    const c = stdout[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) found.push(JSON.parse(stdout.slice(start, i + 1)));
  }
  return found;
}

describe("README.md shell blocks", () => {
  it("has blocks to run, and marks the others not-run", () => {
    expect(runnable.length).toBeGreaterThanOrEqual(2);
    expect(blocks.length - runnable.length).toBeGreaterThanOrEqual(1);
  });

  it("runs every block that talks to a server, as pasted, against a started server", async () => {
    const script = runnable
      .map((b) => `echo "@@block ${b.line}"\n${b.code.replaceAll("localhost:4000", `localhost:${port}`)}`)
      .join("\necho\n");
    const { stdout } = await promisify(execFile)("bash", ["-e", "-o", "pipefail", "-c", script], {
      env: { ...process.env, SECRET },
      timeout: 60_000,
    });
    const outputs = stdout.split(/^@@block /m).slice(1);
    expect(outputs.map((o) => Number.parseInt(o, 10))).toEqual(runnable.map((b) => b.line));
    for (const output of outputs) {
      const printed = answers(output);
      expect(
        printed.length,
        `block at README.md line ${Number.parseInt(output, 10)} printed no answer`,
      ).toBeGreaterThan(0);
      for (const answer of printed) {
        expect(answer, `README.md line ${Number.parseInt(output, 10)}`).not.toHaveProperty("errors");
        if ("active" in (answer as object)) expect(answer).toMatchObject({ active: true });
        else expect(answer).toHaveProperty("data");
      }
    }
  });
});
