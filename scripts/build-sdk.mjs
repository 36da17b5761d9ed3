// Builds packages/sdk (the installable client and resource-server verifier) from src/client and
// src/resource-server: compiled JS and .d.ts only. `npm pack` in packages/sdk then ships dist/.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const sdk = fileURLToPath(new URL("../packages/sdk/", import.meta.url));
rmSync(`${sdk}dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", `${sdk}tsconfig.json`], { cwd: root, stdio: "inherit" });
// The package must stand alone: no file may reach outside src/client and src/resource-server.
const built = readdirSync(`${sdk}dist`).sort();
if (built.join(",") !== "client,resource-server") throw new Error(`unexpected build output: ${built}`);
console.log("packages/sdk/dist built");
