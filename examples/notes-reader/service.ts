// A second service that trusts Holdfast's tokens: plain node:http, no framework. It answers
// `GET /whoami` for a caller holding a Holdfast access token (Bearer or DPoP-bound), and refuses the
// token once Holdfast has revoked its session: within a second with Redis, within POLL_SECONDS without.
//
//   HOLDFAST_URL=http://localhost:4000 PUBLIC_URL=http://localhost:4100 PORT=4100 \
//   INTROSPECTION_CLIENT_ID=notes-reader INTROSPECTION_CLIENT_SECRET=… [REDIS_URL=redis://127.0.0.1:6379] \
//   npx tsx examples/notes-reader/service.ts
//
// In your own service, import from the package: `import { … } from "holdfast/resource-server"`.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createResourceServerVerifier, ResourceServerError } from "../../src/resource-server/index.js";

const env = process.env;
const holdfastUrl = (env.HOLDFAST_URL ?? "http://localhost:4000").replace(/\/+$/, "");
const port = Number(env.PORT ?? 4100);
const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
const metadataUrl = `${publicUrl}/.well-known/oauth-protected-resource`;

const verifier = createResourceServerVerifier({
  // The issuer Holdfast puts in tokens (its PUBLIC_URL); JWKS and the revoked-session list may be
  // reached at another address (HOLDFAST_INTERNAL_URL) inside a private network.
  issuer: env.HOLDFAST_ISSUER ?? holdfastUrl,
  audience: env.HOLDFAST_AUDIENCE ?? "holdfast",
  jwksUri: `${env.HOLDFAST_INTERNAL_URL ?? holdfastUrl}/.well-known/jwks.json`,
  resourceMetadata: metadataUrl,
  revocations: {
    ...(env.REDIS_URL
      ? {
          redis: { url: env.REDIS_URL },
          channel: `${env.REDIS_KEY_PREFIX ?? "holdfast:"}security-events`,
        }
      : {}),
    ...(env.INTROSPECTION_CLIENT_ID && env.INTROSPECTION_CLIENT_SECRET
      ? {
          poll: {
            url: `${env.HOLDFAST_INTERNAL_URL ?? holdfastUrl}/oauth/revoked-sessions`,
            clientId: env.INTROSPECTION_CLIENT_ID,
            clientSecret: env.INTROSPECTION_CLIENT_SECRET,
            intervalSeconds: Number(env.POLL_SECONDS ?? 5),
          },
        }
      : {}),
  },
  onError: (error, context) =>
    console.error(JSON.stringify({ level: "warn", context, message: (error as Error).message })),
});
await verifier.start();

const server = createServer(async (request, response) => {
  const path = new URL(request.url ?? "/", publicUrl).pathname;
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...headers,
    });
    response.end(JSON.stringify(body));
  };
  if (request.method === "GET" && path === "/.well-known/oauth-protected-resource") {
    // RFC 9728: which authorization server's tokens this resource accepts.
    return send(200, {
      resource: publicUrl,
      authorization_servers: [holdfastUrl],
      bearer_methods_supported: ["header"],
      dpop_signing_alg_values_supported: ["EdDSA", "ES256"],
    });
  }
  if (request.method === "GET" && path === "/whoami") {
    try {
      const access = await verifier.verify({
        authorization: request.headers.authorization,
        dpop: request.headers.dpop,
        method: request.method,
        // htu names the URL the client addressed: this service's public URL, never the Host header.
        url: `${publicUrl}${path}`,
      });
      return send(200, { userId: access.userId, sessionId: access.sessionId, scopes: [...access.scopes] });
    } catch (error) {
      if (!(error instanceof ResourceServerError)) return send(500, { error: "internal" });
      return send(
        error.status,
        { error: error.status === 401 ? "unauthorized" : "unavailable", reason: error.reason },
        { "www-authenticate": error.challenge() },
      );
    }
  }
  send(404, { error: "not_found" });
});

server.listen(port, env.HOST ?? "127.0.0.1", () => {
  const { port: bound } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port: bound, pid: process.pid })}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close();
    void verifier.close().then(() => process.exit(0));
  });
}
