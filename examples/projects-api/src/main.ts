import { createHoldfast } from "holdfast";
import { projects } from "./projects.js";

// Configured from the environment like Holdfast's own `npm start` (PORT, DATABASE_URL, REDIS_URL, …).
const holdfast = await createHoldfast({ modules: [projects] });
await holdfast.listen();
