import type { Config } from "../config/config.js";

/** Where a URL points, without credentials: `host:port/db` (or the file of a SQLite URL). */
export function describeLocation(url: string): string {
  if (url.startsWith("file:")) return url.slice("file:".length);
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * The block logged once the server listens: where to go and what it runs on. No secret appears:
 * database and Redis URLs are cut to host, port and database name.
 */
export function startupBanner(config: Config): string {
  const base = config.server.publicUrl;
  const dev = config.env === "development";
  const lines = [
    `Holdfast is up (${config.env} mode)`,
    `  GraphQL    ${base}${config.server.graphqlPath}`,
    `  start here ${base}/`,
  ];
  if (config.http.demo) lines.push(`  console    ${base}/demo  (sign in, watch a stolen token fail)`);
  if (config.http.ide)
    lines.push(
      `  IDE        ${base}${config.server.graphqlPath} in a browser (GraphiQL, signs with the page's key; offline)`,
    );
  if (config.http.ide && dev)
    lines.push(
      `  Sandbox    ${base}${config.server.graphqlPath}?sandbox (loads from Apollo's CDN: needs the internet)`,
    );
  else if (dev)
    lines.push(
      `  Sandbox    ${base}${config.server.graphqlPath} in a browser (loads from Apollo's CDN: needs the internet)`,
    );
  lines.push(
    `  health     ${base}/healthz  ${base}/readyz`,
    `  database   ${config.database.provider} at ${describeLocation(config.database.url)}`,
    `  Redis      ${config.redis ? describeLocation(config.redis.url) : "none (one instance: revocations, DPoP replay and rate limits in memory)"}`,
  );
  return lines.join("\n");
}
