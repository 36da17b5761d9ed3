// One import per console panel; each registers itself (see ../console.ts). Order is set by `order`.
import "./token-panel.js";
import "./attacker-panel.js";
import "./sessions-panel.js";
import "./narrowing-panel.js";
import "./notes-panel.js";
import "./live-feed-panel.js";
