// `npm run db:migrate`: applies pending migrations to DATABASE_URL (SQLite or PostgreSQL).
import { loadConfigOrExit } from "../config/config.js";
import { migrate } from "./migrate.js";

const { database } = loadConfigOrExit();
const { applied } = await migrate(database.provider, database.url);
console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
