// One Holdfast instance in its own process, configured from the environment like `npm start` but
// always on a free loopback port. When it listens it prints one JSON line: {"port":…,"pid":…}.
// Run with `node --import tsx test/support/server-process.ts`; SIGTERM closes it gracefully.
// TEST_CLOCK_OFFSET_SECONDS moves this instance's clock (not the database's): a machine whose clock
// is off, as after a VM resumed from a snapshot or in a container without time sync.
import type { AddressInfo } from "node:net";
import type { Clock } from "../../src/clock.js";
import { loadConfigOrExit } from "../../src/config/config.js";
import { createServer } from "../../src/server/create-server.js";
import { DEMO_MODULES } from "./demo-modules.js";

const config = loadConfigOrExit();

const offsetMs = Number(process.env.TEST_CLOCK_OFFSET_SECONDS ?? 0) * 1000;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
const server = await createServer({ config, clock, databaseClock: null, modules: DEMO_MODULES });
await server.app.listen({ host: "127.0.0.1", port: 0 });
const { port } = server.app.server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
