// bench/server-process.ts plus an event-loop delay histogram, read over IPC by bench/login-storm.ts:
// "reset" clears it, "stats" answers { p50, p99, max } in milliseconds.
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { loadConfigOrExit } from "../src/config/config.js";
import { createServer } from "../src/server/create-server.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";

const config = loadConfigOrExit();
const server = await createServer({ config, modules: DEMO_MODULES });
await server.app.listen({ host: "127.0.0.1", port: config.server.port });
const { port } = server.app.server.address() as AddressInfo;

// 1 ms resolution: the timer that samples the loop is itself on the loop, as a request would be.
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
process.on("message", (message) => {
  if (message === "reset") {
    delay.reset();
    process.send?.({ reset: true });
  } else if (message === "stats") {
    process.send?.({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) });
  }
});
process.send?.({ ready: true, port });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
