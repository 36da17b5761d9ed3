import { randomBytes } from "node:crypto";
import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from "jose";
import type { FakeTime } from "./fake-time.js";

/** A scripted answer that replaces the normal one for the next call of an operation. */
export type Scripted =
  | { readonly kind: "network" }
  | { readonly kind: "html"; readonly status: number; readonly wwwAuthenticate?: string }
  | {
      readonly kind: "error";
      readonly status: number;
      readonly code: string;
      readonly reason?: string;
      readonly retryAfter?: string;
    };

export interface VerifiedProof {
  readonly header: { typ?: string; alg?: string; jwk?: JWK };
  readonly payload: JWTPayload & { htm?: string; htu?: string; ath?: string; nonce?: string };
  readonly jkt: string;
}

export interface FakeCall {
  readonly operationName: string;
  readonly variables: Record<string, unknown>;
  readonly authorization: string | null;
  readonly credentials: RequestCredentials | undefined;
  readonly proof: VerifiedProof | null;
  /** Why the proof was refused, when it was. */
  readonly proofError: string | null;
  status: number;
}

interface SessionRecord {
  readonly id: string;
  readonly jkt: string | null;
  revoked: boolean;
  refreshToken: string;
  readonly rotated: Set<string>;
}

interface AccessRecord {
  readonly sessionId: string;
  readonly expiresAtMs: number;
  readonly jkt: string | null;
}

export interface FakeServerOptions {
  readonly time: FakeTime;
  /** Default 300. */
  readonly accessTokenTtlSeconds?: number;
  /** Default https://api.test/graphql */
  readonly endpoint?: string;
  /** Server clock minus client clock; when set, responses carry a `Date` header from the server's clock. */
  readonly serverSkewMs?: number;
}

/**
 * A stand-in for the Holdfast server, in memory: it issues opaque tokens, rotates refresh tokens,
 * verifies every DPoP proof with jose, and answers from a script when a test wants a failure.
 */
export class FakeHoldfastServer {
  readonly endpoint: string;
  readonly calls: FakeCall[] = [];
  readonly issuedAccessTokens: string[] = [];
  readonly issuedRefreshTokens: string[] = [];
  /** When set, a proof without this nonce is refused with `use_dpop_nonce` (RFC 9449 §8). */
  requiredNonce: string | null = null;
  /** Demand a different nonce on every call, so no proof ever satisfies the server. */
  rotateNonceOnEveryCall = false;
  /** Sent as `DPoP-Nonce` on every response without being demanded (a server rotating its nonce early). */
  advertisedNonce: string | null = null;
  readonly #time: FakeTime;
  readonly #ttlMs: number;
  readonly #skewMs: number | undefined;
  readonly #scripts = new Map<string, Scripted[]>();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #access = new Map<string, AccessRecord>();
  readonly #jtis = new Set<string>();
  /** The session whose refresh token is in "the browser's cookie jar". */
  #cookieSession: string | null = null;

  constructor(options: FakeServerOptions) {
    this.#time = options.time;
    this.#ttlMs = (options.accessTokenTtlSeconds ?? 300) * 1000;
    this.endpoint = options.endpoint ?? "https://api.test/graphql";
    this.#skewMs = options.serverSkewMs;
  }

  /** The next calls of `operationName` get these answers, in order. */
  script(operationName: string, ...answers: Scripted[]): void {
    this.#scripts.set(operationName, [...(this.#scripts.get(operationName) ?? []), ...answers]);
  }

  count(operationName: string): number {
    return this.calls.filter((c) => c.operationName === operationName).length;
  }

  revokeEverySession(): void {
    for (const session of this.#sessions.values()) session.revoked = true;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.split(/[?#]/)[0] !== this.endpoint.split(/[?#]/)[0]) throw new TypeError(`unexpected URL ${url}`);
    const headers = new Headers(init?.headers);
    const body = JSON.parse(String(init?.body)) as {
      operationName?: string;
      variables?: Record<string, unknown>;
    };
    const operationName = body.operationName ?? "(anonymous)";
    const authorization = headers.get("authorization");
    const call: FakeCall = {
      operationName,
      variables: body.variables ?? {},
      authorization,
      credentials: init?.credentials,
      proof: null,
      proofError: null,
      status: 0,
    };
    this.calls.push(call);
    const scripted = this.#scripts.get(operationName)?.shift();
    if (scripted?.kind === "network") {
      call.status = -1;
      throw new TypeError("fetch failed");
    }
    const response = await this.#answer(call, headers, scripted);
    call.status = response.status;
    return response;
  };

  async #answer(call: FakeCall, headers: Headers, scripted: Scripted | undefined): Promise<Response> {
    const extra: Record<string, string> = {};
    if (this.#skewMs !== undefined) extra.date = new Date(this.#time.now() + this.#skewMs).toUTCString();
    if (this.advertisedNonce !== null) extra["dpop-nonce"] = this.advertisedNonce;

    const proofHeader = headers.get("dpop");
    let proof: VerifiedProof | null = null;
    if (proofHeader) {
      try {
        proof = await this.#verifyProof(proofHeader, call.authorization);
        (call as { proof: VerifiedProof | null }).proof = proof;
      } catch (error) {
        (call as { proofError: string | null }).proofError = (error as Error).message;
        return this.#error(401, "UNAUTHENTICATED", "invalid_dpop_proof", extra);
      }
      if (this.rotateNonceOnEveryCall) this.requiredNonce = randomBytes(8).toString("hex");
      if (this.requiredNonce !== null) {
        extra["dpop-nonce"] = this.requiredNonce;
        if (proof.payload.nonce !== this.requiredNonce) {
          return this.#error(401, "UNAUTHENTICATED", "use_dpop_nonce", extra);
        }
      }
    }

    if (scripted?.kind === "html") {
      if (scripted.wwwAuthenticate) extra["www-authenticate"] = scripted.wwwAuthenticate;
      return new Response("<html>bad gateway</html>", { status: scripted.status, headers: extra });
    }
    if (scripted?.kind === "error") {
      if (scripted.retryAfter) extra["retry-after"] = scripted.retryAfter;
      if (scripted.reason === "refresh_token_reused") this.revokeEverySession();
      return this.#error(scripted.status, scripted.code, scripted.reason, extra);
    }

    switch (call.operationName) {
      case "Login":
      case "Register":
        return this.#login(call, proof, extra);
      case "Refresh":
        return this.#refresh(call, proof, extra);
      default:
        return this.#resource(call, proof, extra);
    }
  }

  #login(call: FakeCall, proof: VerifiedProof | null, extra: Record<string, string>): Response {
    const input = call.variables.input as { password: string; refreshTokenDelivery?: string };
    if (input.password === "wrong") return this.#error(200, "UNAUTHENTICATED", "invalid_credentials", extra);
    const session: SessionRecord = {
      id: `s_${randomBytes(6).toString("hex")}`,
      jkt: proof?.jkt ?? null,
      revoked: false,
      refreshToken: this.#newRefreshToken(),
      rotated: new Set(),
    };
    this.#sessions.set(session.id, session);
    const body = input.refreshTokenDelivery === "BODY";
    if (!body) this.#cookieSession = session.id;
    return this.#json(
      200,
      { data: { [call.operationName.toLowerCase()]: this.#payload(session, body) } },
      extra,
    );
  }

  #refresh(call: FakeCall, proof: VerifiedProof | null, extra: Record<string, string>): Response {
    const presented = call.variables.refreshToken as string | undefined;
    let session: SessionRecord | undefined;
    if (presented !== undefined) {
      session = [...this.#sessions.values()].find(
        (s) => s.refreshToken === presented || s.rotated.has(presented),
      );
      if (session?.rotated.has(presented)) {
        // A rotated token came back: theft, the whole family ends.
        session.revoked = true;
        return this.#error(401, "UNAUTHENTICATED", "refresh_token_reused", extra);
      }
    } else if (call.credentials === "include" && this.#cookieSession) {
      session = this.#sessions.get(this.#cookieSession);
    }
    if (!session) return this.#error(401, "UNAUTHENTICATED", "invalid_refresh_token", extra);
    if (session.revoked) return this.#error(401, "UNAUTHENTICATED", "token_revoked", extra);
    if (session.jkt !== null && session.jkt !== proof?.jkt) {
      return this.#error(401, "UNAUTHENTICATED", "invalid_dpop_proof", extra);
    }
    session.rotated.add(session.refreshToken);
    session.refreshToken = this.#newRefreshToken();
    return this.#json(200, { data: { refresh: this.#payload(session, presented !== undefined) } }, extra);
  }

  #resource(call: FakeCall, proof: VerifiedProof | null, extra: Record<string, string>): Response {
    let record: AccessRecord | null = null;
    if (call.authorization) {
      const [scheme, token] = call.authorization.split(" ");
      const found = token ? this.#access.get(token) : undefined;
      if (!found) return this.#error(401, "UNAUTHENTICATED", "invalid_token", extra);
      if ((scheme === "DPoP") !== (found.jkt !== null)) {
        return this.#error(401, "UNAUTHENTICATED", "invalid_token", extra);
      }
      if (found.jkt !== null && proof?.jkt !== found.jkt) {
        return this.#error(401, "UNAUTHENTICATED", "invalid_dpop_proof", extra);
      }
      if (this.#time.now() >= found.expiresAtMs)
        return this.#error(401, "UNAUTHENTICATED", "token_expired", extra);
      if (this.#sessions.get(found.sessionId)?.revoked) {
        return this.#error(401, "UNAUTHENTICATED", "token_revoked", extra);
      }
      record = found;
    }
    const needAuth = () => this.#error(200, "UNAUTHENTICATED", "authentication_required", extra);
    switch (call.operationName) {
      case "Me":
        return this.#json(
          200,
          {
            data: {
              me: record
                ? {
                    id: "u_1",
                    displayName: "Ada",
                    email: "ada@example.test",
                    role: "user",
                    createdAt: "2030-01-01T00:00:00.000Z",
                  }
                : null,
            },
          },
          extra,
        );
      case "Notes":
        return this.#json(
          200,
          { data: { me: { notes: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } } },
          extra,
        );
      case "CreateNote": {
        if (!record) return needAuth();
        const input = call.variables.input as { title: string; body: string };
        return this.#json(
          200,
          {
            data: {
              createNote: {
                id: "n_1",
                ...input,
                createdAt: new Date(this.#time.now()).toISOString(),
                owner: { id: "u_1", displayName: "Ada" },
              },
            },
          },
          extra,
        );
      }
      case "Logout":
      case "LogoutEverywhere": {
        if (!record) return needAuth();
        const session = this.#sessions.get(record.sessionId);
        if (session) session.revoked = true;
        if (call.operationName === "LogoutEverywhere") this.revokeEverySession();
        return this.#json(
          200,
          { data: { [call.operationName === "Logout" ? "logout" : "logoutEverywhere"]: true } },
          extra,
        );
      }
      default:
        return this.#error(400, "GRAPHQL_VALIDATION_FAILED", undefined, extra);
    }
  }

  #payload(session: SessionRecord, bodyDelivery: boolean) {
    const accessToken = `at_${randomBytes(16).toString("hex")}`;
    const expiresAtMs = this.#time.now() + (this.#skewMs ?? 0) + this.#ttlMs;
    // The server's clock decides expiry; a skewed client must not matter.
    this.#access.set(accessToken, {
      sessionId: session.id,
      expiresAtMs: expiresAtMs - (this.#skewMs ?? 0),
      jkt: session.jkt,
    });
    this.issuedAccessTokens.push(accessToken);
    return {
      accessToken,
      tokenType: session.jkt ? "DPoP" : "Bearer",
      expiresAt: new Date(expiresAtMs).toISOString(),
      scopes: ["notes:read", "notes:write"],
      refreshToken: bodyDelivery ? session.refreshToken : null,
      session: { id: session.id },
      user: { id: "u_1", displayName: "Ada", email: "ada@example.test" },
    };
  }

  #newRefreshToken(): string {
    const token = `rt_${randomBytes(16).toString("hex")}`;
    this.issuedRefreshTokens.push(token);
    return token;
  }

  /** The resource-server checks of RFC 9449 §4.3, done with jose. */
  async #verifyProof(proofJws: string, authorization: string | null): Promise<VerifiedProof> {
    const header = decodeProtectedHeader(proofJws) as VerifiedProof["header"];
    if (!header.jwk) throw new Error("no jwk");
    if (header.alg !== "ES256" && header.alg !== "EdDSA") throw new Error(`alg ${header.alg}`);
    if ("d" in header.jwk) throw new Error("private key in header");
    const key = await importJWK(header.jwk, header.alg);
    const { payload } = await jwtVerify(proofJws, key, {
      typ: "dpop+jwt",
      algorithms: ["ES256", "EdDSA"],
      currentDate: new Date(this.#time.now()),
    });
    const claims = payload as VerifiedProof["payload"];
    if (claims.htm !== "POST") throw new Error("htm");
    if (claims.htu !== this.endpoint.split(/[?#]/)[0]) throw new Error("htu");
    // Checked on the server's clock, as a real server does: a skewed client must correct its iat.
    const serverNowSeconds = (this.#time.now() + (this.#skewMs ?? 0)) / 1000;
    if (typeof claims.iat !== "number" || Math.abs(claims.iat - serverNowSeconds) > 60)
      throw new Error("iat");
    if (typeof claims.jti !== "string" || this.#jtis.has(claims.jti)) throw new Error("jti replay");
    this.#jtis.add(claims.jti);
    const token = authorization?.startsWith("DPoP ") ? authorization.slice(5) : null;
    if (token !== null) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
      if (claims.ath !== base64url.encode(digest)) throw new Error("ath");
    } else if (claims.ath !== undefined) {
      throw new Error("ath without token");
    }
    return { header, payload: claims, jkt: await calculateJwkThumbprint(header.jwk) };
  }

  #json(status: number, body: unknown, headers: Record<string, string>): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/graphql-response+json", ...headers },
    });
  }

  #error(
    status: number,
    code: string,
    reason: string | undefined,
    headers: Record<string, string>,
  ): Response {
    const h = { ...headers };
    if (status === 401)
      h["www-authenticate"] = `DPoP error="${reason === "use_dpop_nonce" ? reason : "invalid_token"}"`;
    const extensions = reason ? { code, reason } : { code };
    return this.#json(status, { errors: [{ message: "refused", extensions }], data: null }, h);
  }
}
