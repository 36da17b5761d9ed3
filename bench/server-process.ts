// The real Holdfast server in its own process, for the bench: configured from the environment like
// `npm start`, but always listening on loopback. Prints one JSON line with the port when ready.
import type { AddressInfo } from "node:net";
import { loadConfigOrExit } from "../src/config/config.js";
import { createServer } from "../src/server/create-server.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";

const READY_MARKER = "holdfast-bench-ready";

const config = loadConfigOrExit();

const server = await createServer({ config, modules: DEMO_MODULES });
await server.app.listen({ host: "127.0.0.1", port: config.server.port });
const { port } = server.app.server.address() as AddressInfo;
// The revocation count lets the bench check that seeded revocations were loaded at start.
process.stdout.write(
  `${JSON.stringify({ [READY_MARKER]: true, port, pid: process.pid, revocations: server.revocations.size })}\n`,
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
