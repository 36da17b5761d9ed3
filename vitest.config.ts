import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) without an exports map. Node, and so Apollo,
    // load the CJS build; Vite would pick the ESM one for our sources, and two copies of graphql
    // break `instanceof GraphQLError` and schema realm checks. One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Checks what the machine must provide (README, "What `npm test` needs"); installs Chromium as root.
    globalSetup: ["test/support/global-setup.ts"],
    // The scale-out suite runs its own PostgreSQL databases whatever TEST_DATABASE says: once is enough.
    exclude: [
      ...configDefaults.exclude,
      // So does the packed example project: it runs on its own embedded database.
      ...(process.env.TEST_DATABASE === "postgres"
        ? ["test/scale-out/**", "test/package/projects-example.test.ts"]
        : []),
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only contend for them.
    maxWorkers: 2,
  },
});
