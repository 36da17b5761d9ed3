import type { FastifyInstance } from "fastify";
import type { TokenVerifier } from "../../auth/authenticate.js";
import { type DpopNonces, verifyDpopProof } from "../../auth/dpop/index.js";
import type { ReplayStore } from "../../auth/dpop/replay-store.js";
import { revokeToken } from "../../auth/oauth/token-revocation.js";
import type { SessionService } from "../../auth/sessions/session-service.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config/config.js";
import type { Prisma } from "../../db/database.js";
import { UnauthenticatedError } from "../../errors/app-error.js";
import type { AuthenticateClient } from "./client-authentication.js";
import { formParam, headerValues, noStore } from "./oauth-http.js";
import { OAUTH_PATHS } from "./oauth-paths.js";

export interface RevocationRouteOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly prisma: Prisma;
  readonly tokens: TokenVerifier;
  readonly sessions: SessionService;
  readonly replayStore: ReplayStore;
  readonly nonces: DpopNonces | null;
}

/** Token revocation (RFC 7009); public clients too, proving a bound token with its DPoP key. */
export function revocationRoute(
  app: FastifyInstance,
  options: RevocationRouteOptions,
  authenticateClient: AuthenticateClient,
): void {
  const { config, clock, prisma } = options;
  const base = config.server.publicUrl;
  app.post(OAUTH_PATHS.revoke, async (request, reply) => {
    const clientId = await authenticateClient(request, reply, false);
    if (clientId === undefined) return reply;
    const token = formParam(request, "token");
    if (!token) return noStore(reply).code(400).send({ error: "invalid_request" });
    const dpop = headerValues(request, "dpop");
    try {
      await revokeToken(
        {
          tokens: options.tokens,
          prisma,
          sessions: options.sessions,
          proof: ({ accessToken, expectedJkt }) =>
            verifyDpopProof(
              {
                headerValues: dpop,
                method: request.method,
                url: `${base}${OAUTH_PATHS.revoke}`,
                ...(accessToken ? { accessToken } : {}),
                expectedJkt,
              },
              {
                clock,
                replayStore: options.replayStore,
                nonces: options.nonces,
                iatWindowSeconds: config.dpop.iatWindowSeconds,
              },
            ),
        },
        {
          token,
          hint: formParam(request, "token_type_hint") ?? undefined,
          hasProof: dpop.length > 0,
          client: { ip: request.ip ?? null, userAgent: request.headers["user-agent"] ?? null },
        },
      );
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      // RFC 9449 §5/§8: the token endpoint's DPoP errors, as a 400 with the error code.
      if (error.reason === "use_dpop_nonce" && options.nonces) {
        return noStore(reply)
          .code(400)
          .header("dpop-nonce", options.nonces.current())
          .send({ error: "use_dpop_nonce" });
      }
      return noStore(reply)
        .code(400)
        .send({
          error: "invalid_dpop_proof",
          error_description:
            error.reason === "dpop_required"
              ? "The token is bound to a key: a DPoP proof from that key is required"
              : "The DPoP proof is not valid for this token and endpoint",
        });
    }
    // RFC 7009 §2.2: 200 whether or not the token was known.
    return noStore(reply).code(200).send();
  });
}
