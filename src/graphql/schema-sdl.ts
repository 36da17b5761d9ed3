import { buildASTSchema, parse, printSchema } from "graphql";
import { loadTypeDefs } from "./schema.js";

/**
 * The public schema as one SDL document, for other tools (client codegen, schema registries,
 * linters): what `npm run schema` writes to schema.graphql at the project root.
 */
export function printSchemaSdl(): string {
  const header =
    "# GENERATED from src/graphql/schema/*.graphql by `npm run schema`. Do not edit; a test checks it is current.\n\n";
  return `${header}${printSchema(buildASTSchema(parse(loadTypeDefs())))}\n`;
}
