// `npm run keys:rotate [-- --immediate]`: rotates the signing key through the database. Running
// instances pick the new key up on their next key reload; without --immediate it signs only after
// the publish delay, so every instance and JWKS consumer knows it first.
import { systemClock } from "../../clock.js";
import { loadConfigOrExit } from "../../config/config.js";
import { openDatabase } from "../../db/database.js";
import { KeyStore, keyStoreConfig } from "./key-store.js";

const immediate = process.argv.includes("--immediate");
const config = loadConfigOrExit();
const db = await openDatabase(config.database);
try {
  const keys = await KeyStore.open({
    prisma: db.prisma,
    clock: systemClock,
    config: keyStoreConfig(config),
  });
  const { kid, activatesAt } = await keys.rotate({ immediate });
  console.log(`new ${config.tokens.alg} key ${kid} signs from ${activatesAt.toISOString()}`);
  console.log("earlier keys stop signing then and stay in the JWKS until their tokens have expired");
} finally {
  await db.close();
}
