// Two Holdfast processes on different ports, one PostgreSQL database and one Redis (as behind a load
// balancer): whatever one instance does, the other must honour.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createDpopKey, createDpopProof } from "../support/dpop-proof.js";
import {
  CLUSTER_ENV,
  errorOf,
  GRAPHQL_URL,
  type Instance,
  kidOf,
  LOGIN,
  login,
  PASSWORD,
  REFRESH,
  registerUser,
  sleep,
  useCluster,
  within,
} from "./cluster.js";
import { familyViolations } from "./family-consistency.js";

const run = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
// The default. 200 concurrent refreshes of one token took ~5 s on two busy cores here, and every one
// must land inside the grace to get the winner's successor; the reuse test waits it out.
const GRACE_SECONDS = 10;
const ME = "{ me { id } }";

const cluster = useCluster({
  env: {
    DATABASE_POOL_SIZE: "10",
    REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS),
    // Server nonces (RFC 9449 §8) from one secret that every instance is configured with.
    DPOP_NONCE: "true",
    DPOP_NONCE_SECRET: randomBytes(32).toString("base64url"),
  },
});
const [a, b] = cluster.startForFile("A", "B");

describe("two instances sharing PostgreSQL and Redis", () => {
  it("rotates on B a session started on A, and reuse of the rotated token on A ends the family on both", async () => {
    const first = await registerUser(a);
    const rotated = await b.gql<{ refresh: { accessToken: string; refreshToken: string } }>(REFRESH, {
      variables: { token: first.refreshToken },
    });
    expect(rotated.errors).toBeUndefined();
    const second = rotated.data!.refresh;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // B's token is good on A (shared keys) before anything happens.
    expect((await a.gql<{ me: { id: string } }>(ME, { token: second.accessToken })).data?.me?.id).toBe(
      first.userId,
    );

    await sleep(GRACE_SECONDS * 1000 + 200);
    const reuse = await a.gql(REFRESH, { variables: { token: first.refreshToken } });
    expect(errorOf(reuse)).toEqual({ code: "UNAUTHENTICATED", reason: "refresh_token_reused" });

    // The family is over everywhere: B refuses the live tip, and both refuse its access token.
    const tip = await b.gql(REFRESH, { variables: { token: second.refreshToken } });
    expect(errorOf(tip)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_refresh_token" });
    for (const instance of [a, b]) {
      const refusedWithin = await within(1000, async () => {
        const answer = await instance.gql(ME, { token: second.accessToken });
        return answer.status === 401 && errorOf(answer)?.reason === "token_revoked";
      });
      expect(refusedWithin, `instance ${instance.name}`).not.toBeNull();
    }
    const { rows } = await cluster.db.pool.query(
      `SELECT "revokedReason" FROM holdfast."Session" WHERE id = $1`,
      [first.sessionId],
    );
    expect(rows[0]?.revokedReason).toBe("refresh_token_reused");
  });

  it("enforces a logout on B at A within 1 s (pub/sub), without A reading the database", async () => {
    const user = await registerUser(a);
    // A has verified (and cached) the token before the logout.
    expect((await a.gql<{ me: { id: string } }>(ME, { token: user.accessToken })).data?.me?.id).toBe(
      user.userId,
    );
    const logout = await b.gql<{ logout: boolean }>("mutation { logout }", { token: user.accessToken });
    expect(logout.data?.logout).toBe(true);
    // Polled every 50 ms: refused on A well inside the promised second.
    const elapsed = await within(1000, async () => {
      const answer = await a.gql(ME, { token: user.accessToken });
      return answer.status === 401 && errorOf(answer)?.reason === "token_revoked";
    });
    expect(elapsed).not.toBeNull();
    // A refuses the token itself, not only data fields: an anonymous-safe query is refused too.
    const ping = await a.gql("{ __typename }", { token: user.accessToken });
    expect(ping.status).toBe(401);
    expect(errorOf(ping)).toEqual({ code: "UNAUTHENTICATED", reason: "token_revoked" });
  });

  it("refuses on B a DPoP proof that A has already accepted (shared replay cache), and shares nonces", async () => {
    const key = await createDpopKey();
    // Every response carries the current nonce (RFC 9449 §8); the one A hands out is good on B too.
    const nonce = (await a.gql("{ __typename }")).headers.get("dpop-nonce");
    expect(nonce).toBeTruthy();
    const proofFor = (accessToken?: string) =>
      createDpopProof(key, {
        htm: "POST",
        htu: GRAPHQL_URL,
        nonce: nonce!,
        ...(accessToken ? { accessToken } : {}),
      });
    const user = await registerUser(a, await proofFor());
    const proof = await proofFor(user.accessToken);
    const authorization = `DPoP ${user.accessToken}`;

    const onA = await a.gql<{ me: { id: string } }>(ME, { authorization, dpop: proof });
    expect(onA.data?.me?.id).toBe(user.userId);
    // B knows the nonce (else it would ask for its own, use_dpop_nonce) and refuses the replay.
    const replayed = await b.gql(ME, { authorization, dpop: proof });
    expect(replayed.status).toBe(401);
    expect(errorOf(replayed)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_dpop_proof" });
    // The token itself is fine on B: only the reused proof was refused.
    const fresh = await proofFor(user.accessToken);
    expect((await b.gql<{ me: { id: string } }>(ME, { authorization, dpop: fresh })).data?.me?.id).toBe(
      user.userId,
    );
  });

  it("counts wrong passwords for one account across A and B: the 6th, on B, is refused after 5 on A", async () => {
    const user = await registerUser(a);
    const attempt = (instance: Instance, password: string) =>
      instance.gql(LOGIN, {
        variables: { input: { email: user.email, password, refreshTokenDelivery: "BODY" } },
      });
    for (let i = 0; i < 5; i++) {
      expect(errorOf(await attempt(a, `wrong password ${i}!`))).toEqual({
        code: "UNAUTHENTICATED",
        reason: "invalid_credentials",
      });
    }
    expect(errorOf(await attempt(b, "wrong password 6!"))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    // Even the right password waits out the back-off: the limit is per account, not per guess.
    expect(errorOf(await attempt(b, PASSWORD))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
  });

  it("gives exactly one successor to 200 concurrent refreshes of one token spread over A and B", async () => {
    const user = await registerUser(a);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).gql<{ refresh: { refreshToken: string } }>(REFRESH, {
          variables: { token: user.refreshToken },
        }),
      ),
    );
    const { rows } = await cluster.db.pool.query<{ id: string; parentId: string | null }>(
      `SELECT id, "parentId" FROM holdfast."RefreshToken" WHERE "sessionId" = $1`,
      [user.sessionId],
    );
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.parentId !== null)).toHaveLength(1);
    // Within the grace interval the losers get the winner's successor: one token for all 200.
    const errors = answers.filter((r) => r.errors).map(errorOf);
    expect(errors).toEqual([]);
    expect(new Set(answers.map((r) => r.data?.refresh.refreshToken)).size).toBe(1);
    expect(await familyViolations(cluster.db.pool)).toEqual([]);
  });

  it("picks up a key rotated by `npm run keys:rotate`: published on both before it signs, then verified across", async () => {
    const before = kidOf((await registerUser(a)).accessToken);
    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/auth/keys/rotate-cli.ts"], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", ...CLUSTER_ENV, ...cluster.env },
    });
    const match = /key (\S+) signs from (\S+)/.exec(stdout);
    expect(match).not.toBeNull();
    const kid = match![1]!;
    const activatesAt = new Date(match![2]!).getTime();
    expect(kid).not.toBe(before);

    // Both instances publish the new key before it signs (KEY_RELOAD_INTERVAL < KEY_PUBLISH_DELAY).
    const published = await within(5000, async () => {
      const sets = await Promise.all([a, b].map((i) => i.get("/.well-known/jwks.json")));
      return sets.every(({ body }) => (body as { keys: { kid: string }[] }).keys.some((k) => k.kid === kid));
    });
    expect(published).not.toBeNull();
    expect(Date.now()).toBeLessThan(activatesAt);

    // Once active, each instance signs with it, and the other verifies what it signed.
    await sleep(Math.max(0, activatesAt - Date.now()) + 100);
    const user = await registerUser(a);
    for (const [signer, verifier] of [
      [a, b],
      [b, a],
    ] as const) {
      const tokens = await login(signer, user.email);
      expect(kidOf(tokens.accessToken), `signed by ${signer.name}`).toBe(kid);
      const me = await verifier.gql<{ me: { id: string } }>(ME, { token: tokens.accessToken });
      expect(me.data?.me?.id, `verified by ${verifier.name}`).toBe(user.userId);
    }
  });
});
