import type { HoldfastModule } from "../graphql/module-definition.js";
import type { ServerRuntime } from "./configuration.js";
import type { ServerStores } from "./stores.js";

/**
 * A `createServer` step: each module's `setup`, in the order given, before the first request (its
 * tables, its services on the shared connection). A setup that fails stops the start, naming the
 * module; what the others returned is undone. Returns what runs at close, in reverse order.
 */
export async function setUpModules(
  modules: readonly HoldfastModule[],
  { database, clock, logger }: ServerRuntime,
  { infrastructure }: ServerStores,
): Promise<() => Promise<void>> {
  const teardowns: { name: string; run: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const { name, run } of teardowns.reverse()) {
      await run().catch((error: unknown) =>
        logger.error({ err: error, module: name }, "module teardown failed"),
      );
    }
    teardowns.length = 0;
  };
  const events = {
    publish: (topic: string, payload: unknown) => infrastructure.events.publish(topic, payload),
  };
  for (const module of modules) {
    if (!module.setup) continue;
    try {
      const teardown = await module.setup({
        database: database.driver,
        events,
        clock,
        logger: logger.child({ module: module.name }),
      });
      if (typeof teardown === "function") teardowns.push({ name: module.name, run: teardown });
    } catch (error) {
      await stopAll();
      throw new Error(
        `module ${module.name}: setup failed: ${error instanceof Error ? error.message : error}`,
        {
          cause: error,
        },
      );
    }
  }
  return stopAll;
}
