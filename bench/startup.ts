// Time from `npm start` to the first answered request, as the README quotes it: a fresh database
// (created, migrated, a signing key made) and then a second start on the same file.
//   npx tsx bench/startup.ts [runs=3]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const runs = Number(process.argv[2] ?? 3);

async function timeToFirstAnswer(databaseUrl: string, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn("npm", ["start"], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" },
    stdio: "ignore",
    detached: true,
  });
  try {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.ok) return performance.now() - started;
      } catch {
        // Not listening yet.
      }
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
      await sleep(25);
    }
  } finally {
    // The whole group: npm, the shell, tsx and node.
    if (child.pid) process.kill(-child.pid, "SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

const fresh: number[] = [];
const again: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-startup-"));
  const url = `file:${join(dir, "holdfast.db")}`;
  try {
    fresh.push(await timeToFirstAnswer(url, 4100 + i));
    again.push(await timeToFirstAnswer(url, 4100 + i));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
const fmt = (xs: number[]) => xs.map((x) => `${(x / 1000).toFixed(2)} s`).join(", ");
console.log(`first start (new database): ${fmt(fresh)}`);
console.log(`second start (same database): ${fmt(again)}`);
console.log(
  `load average (1, 5, 15 min): ${loadavg()
    .map((l) => l.toFixed(1))
    .join(", ")} on this machine`,
);
