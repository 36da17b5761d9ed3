// `npm run -s permissions | head`: a reader that stops early closes the pipe; the script must end
// quietly with status 0, not crash on EPIPE.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Runs a script whose reader has already gone (`| true`): its stdout is closed before it writes. */
function runAndCloseEarly(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.destroy();
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("CLI scripts and a closed pipe", () => {
  it("npm run permissions ends with status 0 when its reader goes away", async () => {
    const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
    const { status, stderr } = await runAndCloseEarly([tsx, "scripts/permissions.ts"]);
    expect(stderr).not.toMatch(/EPIPE/);
    expect(status).toBe(0);
  });
});
