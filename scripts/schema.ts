// npm run schema: writes schema.graphql at the project root: the core and the modules npm start serves.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchemaSdl } from "../src/graphql/schema-sdl.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";

const target = fileURLToPath(new URL("../schema.graphql", import.meta.url));
writeFileSync(target, printSchemaSdl(DEMO_MODULES));
console.log("wrote schema.graphql");
