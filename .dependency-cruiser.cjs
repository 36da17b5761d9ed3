// The architecture, enforced: `npm run lint:deps` (and .ci/run) fails on an arrow that points the
// wrong way. The README's "Architecture" section draws these rules; docs/architecture.md is the
// graph this tool generates from the code (`npm run deps:graph`).
//
//   server, testing → graphql → authz
//                   ↘ auth → users → db
//   modules (src/modules/*): each imports only the public entry, src/index.ts; the core imports
//   no module, and only src/main.ts composes them
//   leaves (anyone may import): config, errors, clock.ts, ids.ts, logger.ts, pagination.ts, roles.ts
//   client: alone (it ships to browsers)
const LEAVES = "^src/(config/|errors/|(clock|ids|logger|pagination|roles)\\.ts$)";
const SERVICES = "^src/(users|auth)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: neither can be read, tested or moved alone.",
      from: { path: "^src/" },
      // Cycles through values; an interface module and its implementations naming each other's
      // types is erased at compile time and does not tie their loading together.
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "graphql-only-from-server",
      severity: "error",
      comment:
        "The GraphQL layer (SDL, resolvers, generated types, context) is read only by itself and the server.",
      // src/testing is the `./testing` package entry: it assembles the schema as the server does.
      // src/index.ts is the public entry: it re-exports what modules build on.
      from: { path: "^src/", pathNot: "^src/((server|graphql|testing)/|index\\.ts$)" },
      to: { path: "^src/graphql/" },
    },
    {
      name: "services-below-graphql",
      severity: "error",
      comment:
        "Services (users, auth) know neither GraphQL nor HTTP: testable alone, reusable by any transport.",
      from: { path: SERVICES },
      to: { path: "^src/(graphql|server)/" },
    },
    {
      name: "authz-decides-without-services",
      severity: "error",
      comment:
        "Rules decide from the viewer and the parent object, never by querying (DESIGN.md): no service, no database, no transport.",
      from: { path: "^src/authz/" },
      to: { path: "^src/(users|auth|db|graphql|server|modules)/" },
    },
    {
      name: "services-know-no-policy",
      severity: "error",
      comment:
        "Services take what policy decided (granted scopes) as input; the scope catalogue and rules stay in authz.",
      from: { path: SERVICES },
      to: { path: "^src/authz/" },
    },
    {
      name: "domain-services-independent",
      severity: "error",
      comment: "users is the bottom domain layer: it does not import auth (auth builds on users).",
      from: { path: "^src/users/" },
      to: { path: "^src/auth/" },
    },
    {
      name: "client-imports-nothing-server-side",
      severity: "error",
      comment: "The client SDK ships to browsers: it imports only itself.",
      from: { path: "^src/client/" },
      to: { path: "^src/", pathNot: "^src/client/" },
    },
    {
      name: "leaves-stay-leaves",
      severity: "error",
      comment:
        "config, errors and the small shared modules are imported by everyone, so they import only each other.",
      from: { path: LEAVES },
      to: { path: "^src/", pathNot: LEAVES },
    },
    {
      name: "events-and-subscriptions-know-no-module",
      severity: "error",
      comment:
        "The event bus and the subscription server carry any module's topics (issue 24): they name none.",
      from: { path: "^src/(events|server/subscriptions)/" },
      to: { path: "^src/modules/" },
    },
    {
      name: "events-below-services",
      severity: "error",
      comment: "The event bus is a service's tool: it imports only leaves (a service may publish).",
      from: { path: "^src/events/" },
      to: { path: "^src/", pathNot: `${LEAVES}|^src/events/` },
    },
    {
      name: "db-below-everything",
      severity: "error",
      comment: "The database layer imports only leaves and its generated clients.",
      from: { path: "^src/db/" },
      to: { path: "^src/", pathNot: `${LEAVES}|^src/db/` },
    },
    {
      name: "shield-behind-one-file",
      severity: "error",
      comment:
        "graphql-shield's defaults are unsafe for us: only src/authz/shield.ts may import it (STYLE.md).",
      from: { path: "^src/", pathNot: "^src/authz/shield\\.ts$" },
      to: { path: "node_modules/(graphql-shield|graphql-middleware)/" },
    },
    {
      name: "core-imports-no-module",
      severity: "error",
      comment:
        "The core offers seams and imports no domain (DESIGN.md, modules): only the composition root, src/main.ts, names a module.",
      from: { path: "^src/", pathNot: "^src/(modules/|main\\.ts$)" },
      to: { path: "^src/modules/" },
    },
    {
      name: "modules-use-only-the-public-entry",
      severity: "error",
      comment:
        "A module is written as a user's would be: against `holdfast` (src/index.ts) alone, so it survives the core's upgrades.",
      from: { path: "^src/modules/([^/]+)/" },
      to: { path: "^src/", pathNot: "^src/(index\\.ts$|modules/$1/)" },
    },
    {
      name: "src-not-to-tests",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|scripts)/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that does not resolve is a broken build or a missing dependency.",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Generated code is a leaf of its owner (src/db, src/graphql): imports of it count, its own do not.
    doNotFollow: { path: ["node_modules", "^src/(db|graphql)/generated/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: {
      dot: { collapsePattern: "^src/[^/]+/|^src/[^/]+\\.ts$" },
      mermaid: { minify: false },
    },
  },
};
