// `npm start`: the one composition root. The core with the demo module (notes), configured from
// the environment; `.env` fills in what the environment does not set (copy .env.example).
import { ConfigError } from "./config/config.js";
import { loadEnvFile } from "./config/env-file.js";
import { createHoldfast, HoldfastStartError, ModuleCompositionError, PermissionMapError } from "./index.js";
import { notes } from "./modules/notes/index.js";

if (loadEnvFile() === "unsupported") console.warn(".env found but not loaded: Node 20.12 or newer reads it");
try {
  const holdfast = await createHoldfast({ modules: [notes] });
  await holdfast.listen();
} catch (error) {
  // A database that cannot serve this release or a port in use is already one fatal log line. Bad
  // settings or an undecided field: one message naming each problem. Anything else is a bug: its
  // stack is worth reading.
  if (!(error instanceof HoldfastStartError)) {
    const known = [ConfigError, ModuleCompositionError, PermissionMapError];
    console.error(known.some((kind) => error instanceof kind) ? (error as Error).message : error);
  }
  process.exit(1);
}
