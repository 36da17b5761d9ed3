// npm run schema: writes schema.graphql at the project root from the SDL modules.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchemaSdl } from "../src/graphql/schema-sdl.js";

const target = fileURLToPath(new URL("../schema.graphql", import.meta.url));
writeFileSync(target, printSchemaSdl());
console.log("wrote schema.graphql");
