import { afterEach, describe, expect, it } from "vitest";
import { boundLogin } from "../dpop/dpop-client.js";
import { REFRESH, registerUser, startTestServer, type TestServer } from "../support/test-server.js";
import { basic, introspect, OAUTH_TEST_ENV, RS_CLIENT, RS_SECRET } from "./oauth-support.js";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const t of servers.splice(0).reverse()) await t.close();
});

async function start(env: Record<string, string> = {}, share?: TestServer): Promise<TestServer> {
  const t = await startTestServer(
    { ...OAUTH_TEST_ENV, ...env },
    share ? { clock: share.clock, database: share.database as never } : {},
  );
  servers.push(t);
  return t;
}

describe("POST /oauth/introspect (RFC 7662)", () => {
  it("answers an access token's claims while it is live", async () => {
    const t = await start();
    const user = await registerUser(t);
    const res = await introspect(t, user.accessToken);
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toMatchObject({
      active: true,
      sub: user.user.id,
      sid: user.session.id,
      scope: user.scopes.join(" "),
      aud: "holdfast",
      iss: "http://localhost:4000",
      token_type: "Bearer",
    });
    expect(res.body?.exp).toBe(Math.floor(Date.parse(user.expiresAt) / 1000));
    expect(typeof res.body?.iat).toBe("number");
    expect(res.body?.cnf).toBeUndefined();
  });

  it("answers a refresh token as active while it is the family's current token, and not once rotated", async () => {
    const t = await start();
    const user = await registerUser(t);
    const live = await introspect(t, user.refreshToken!, { hint: "refresh_token" });
    expect(live.body).toMatchObject({ active: true, sub: user.user.id, sid: user.session.id });
    const rotated = await t.gql(REFRESH, { variables: { token: user.refreshToken } });
    expect(rotated.body.errors).toBeUndefined();
    expect((await introspect(t, user.refreshToken!)).body).toEqual({ active: false });
  });

  const causes: [string, (t: TestServer, token: string, refresh: string) => Promise<void>][] = [
    ["logout", async (t, token) => void (await t.gql("mutation { logout }", { token }))],
    ["logoutEverywhere", async (t, token) => void (await t.gql("mutation { logoutEverywhere }", { token }))],
    [
      "revokeSession from another session of the user",
      async (t, token) => {
        const sid = (
          (
            await t.gql<{ sessions: { id: string; current: boolean }[] }>("{ sessions { id current } }", {
              token,
            })
          ).body.data?.sessions ?? []
        ).find((s) => s.current)?.id;
        const other = await t.gql<{ login: { accessToken: string } }>(
          `mutation { login(input: { email: "${(await t.gql<{ me: { email: string } }>("{ me { email } }", { token })).body.data?.me.email}", password: "correct horse battery staple" }) { accessToken } }`,
        );
        const res = await t.gql(`mutation { revokeSession(id: "${sid}") }`, {
          token: other.body.data!.login.accessToken,
        });
        expect(res.body.errors).toBeUndefined();
      },
    ],
    [
      "refresh token reuse (theft) ending the family",
      async (t, _token, refresh) => {
        await t.gql(REFRESH, { variables: { token: refresh } });
        t.clock.advance(60_000);
        await t.gql(REFRESH, { variables: { token: refresh } });
      },
    ],
    [
      "a password change from another session",
      async (t, token) => {
        const email = (await t.gql<{ me: { email: string } }>("{ me { email } }", { token })).body.data!.me
          .email;
        const other = await t.gql<{ login: { accessToken: string } }>(
          `mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { accessToken } }`,
        );
        const res = await t.gql(
          `mutation { changePassword(currentPassword: "correct horse battery staple", newPassword: "another long passphrase 42") }`,
          { token: other.body.data!.login.accessToken },
        );
        expect(res.body.errors).toBeUndefined();
      },
    ],
    [
      "its signing key withdrawn (compromised key removed)",
      async (t, token) => {
        const { kid } = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as {
          kid: string;
        };
        await t.server.keys.rotate({ immediate: true });
        await t.database.prisma.signingKey.delete({ where: { kid } });
        await t.server.keys.reload();
      },
    ],
  ];

  for (const [cause, revoke] of causes) {
    it(`says active: false at once after ${cause}, on this instance and on one that missed the message`, async () => {
      const t = await start();
      // A second instance on the same database, with no bus between them: only the database tells it.
      const other = await start({}, t);
      const user = await registerUser(t);
      expect((await introspect(other, user.accessToken)).body?.active).toBe(true);
      await revoke(t, user.accessToken, user.refreshToken!);
      expect((await introspect(t, user.accessToken)).body).toEqual({ active: false });
      if (cause.startsWith("its signing key")) return; // keys are reloaded per instance, on a timer
      expect((await introspect(other, user.accessToken)).body).toEqual({ active: false });
      expect((await introspect(other, user.refreshToken!)).body).toEqual({ active: false });
    });
  }

  it("answers the same `active: false` for unknown, malformed, expired and foreign tokens", async () => {
    const t = await start();
    const user = await registerUser(t);
    const answers = [
      await introspect(t, "not-a-token"),
      await introspect(t, "A".repeat(43)),
      await introspect(t, `${user.accessToken.slice(0, -4)}AAAA`),
      await introspect(t, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ];
    t.clock.advance(3600_000);
    answers.push(await introspect(t, user.accessToken));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it("answers cnf and token_type DPoP for a bound token", async () => {
    const t = await start();
    const { client, payload } = await boundLogin(t);
    const res = await introspect(t, payload.accessToken);
    expect(res.body).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt: client.key.jkt } });
  });

  it("refuses missing or wrong client credentials with the same 401, whether or not the client exists", async () => {
    const t = await start();
    const base = await t.listen();
    const user = await registerUser(t);
    const attempts = [
      null,
      basic(RS_CLIENT, `${RS_SECRET}x`),
      basic("no-such-client", RS_SECRET),
      basic("other-service", "wrong-but-long-enough"),
      `Bearer ${user.accessToken}`,
      "Basic !!!",
    ];
    for (const authorization of attempts) {
      const response = await fetch(`${base}/oauth/introspect`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(authorization ? { authorization } : {}),
        },
        body: new URLSearchParams({ token: user.accessToken }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="holdfast"');
      expect(await response.json()).toEqual({ error: "invalid_client" });
    }
  });

  it("accepts a client whose secret is configured as its SHA-256", async () => {
    const { createHash } = await import("node:crypto");
    const secret = "hashed-secret-for-a-service";
    const t = await start({
      INTROSPECTION_CLIENTS: `hashed:sha256:${createHash("sha256").update(secret).digest("hex")}`,
    });
    const user = await registerUser(t);
    expect(
      (await introspect(t, user.accessToken, { authorization: basic("hashed", secret) })).body?.active,
    ).toBe(true);
    expect(
      (await introspect(t, user.accessToken, { authorization: basic("hashed", "x".repeat(20)) })).status,
    ).toBe(401);
  });

  it("limits failed client authentication per address (429 with Retry-After)", async () => {
    const t = await start({ RATE_LIMIT_OAUTH_FAILURES_PER_IP_PER_MINUTE: "3" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await introspect(t, "x", { authorization: basic(RS_CLIENT, `wrong-${i}-secret-value`) })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // The right secret from the same address is limited too: guessing cannot be interleaved with use.
    const limited = await introspect(t, "x", { authorization: basic("nobody", "also-wrong-secret") });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("limits an authenticated client's calls per minute", async () => {
    const t = await start({ RATE_LIMIT_OAUTH_PER_CLIENT_PER_MINUTE: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await introspect(t, "x")).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("needs a token parameter", async () => {
    const t = await start();
    const res = await t.server.app.inject({
      method: "POST",
      url: "/oauth/introspect",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basic(RS_CLIENT, RS_SECRET),
      },
      payload: "",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "invalid_request" });
  });
});
