// `npm run build` step 2: what tsc does not emit — the SDL modules, the generated Prisma clients and
// the argon2 worker (plain JavaScript, loaded by worker threads).
import { cpSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const path of ["graphql/schema", "db/generated", "auth/argon2-worker.mjs"]) {
  const from = join(root, "src", path);
  if (!existsSync(from))
    throw new Error(`missing ${from}: run npm install (it generates the Prisma clients)`);
  cpSync(from, join(root, "dist", path), { recursive: true });
}
