// RFC 9449 end to end through the server: a login with a proof yields tokens bound to the proof key,
// and those tokens work only with the DPoP scheme and a fresh proof of that key.
import { describe, expect, it } from "vitest";
import { errorOf, useTestServer } from "../support/test-server.js";
import { boundLogin, cnfJkt, DPOP_TEST_ENV, dpopClient, ME } from "./dpop-client.js";

const t = useTestServer(DPOP_TEST_ENV);

describe("a login with a DPoP proof", () => {
  it("binds the access token (cnf.jkt) and the session to the proof key's thumbprint", async () => {
    const { client, payload } = await boundLogin(t);
    expect(payload.tokenType).toBe("DPoP");
    expect(cnfJkt(payload.accessToken)).toBe(client.key.jkt);
    const row = await t.database.prisma.session.findUnique({ where: { id: payload.session.id } });
    expect(row?.jkt).toBe(client.key.jkt);

    const sessions = await t.gql<{ sessions: { id: string; boundToKey: boolean }[] }>(
      "{ sessions { id boundToKey } }",
      { authorization: `DPoP ${payload.accessToken}`, headers: await client.headers(payload.accessToken) },
    );
    expect(errorOf(sessions)).toBeUndefined();
    // The account was registered without a proof: that first session stays unbound.
    expect(sessions.body.data?.sessions).toContainEqual({ id: payload.session.id, boundToKey: true });
  });

  it("binds with an ES256 key as well as an EdDSA one", async () => {
    const { client, payload } = await boundLogin(t, await dpopClient(t, "ES256"));
    expect(payload.tokenType).toBe("DPoP");
    expect(cnfJkt(payload.accessToken)).toBe(client.key.jkt);
    expect((await client.me(payload.accessToken)).body.data?.me?.id).toBe(payload.user.id);
  });

  it("binds a registration made with a proof", async () => {
    const client = await dpopClient(t);
    const res = await client.register();
    const payload = res.body.data!.register;
    expect(payload.tokenType).toBe("DPoP");
    expect(cnfJkt(payload.accessToken)).toBe(client.key.jkt);
    expect((await client.me(payload.accessToken)).body.data?.me?.id).toBe(payload.user.id);
  });

  it("answers { me } for the DPoP scheme with a fresh proof carrying ath, every time", async () => {
    const { client, payload } = await boundLogin(t);
    for (let i = 0; i < 3; i++) {
      const res = await client.me(payload.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.data?.me?.id).toBe(payload.user.id);
    }
  });

  it("keeps the binding through refresh: the successor is bound to the same key", async () => {
    const { client, payload } = await boundLogin(t);
    const res = await client.refresh(payload.refreshToken!);
    expect(errorOf(res)).toBeUndefined();
    const next = res.body.data!.refresh;
    expect(next.tokenType).toBe("DPoP");
    expect(next.session.id).toBe(payload.session.id);
    expect(cnfJkt(next.accessToken)).toBe(client.key.jkt);
    expect((await client.me(next.accessToken)).body.data?.me?.id).toBe(payload.user.id);
  });

  it("keeps the binding through narrowToken", async () => {
    const { client, payload } = await boundLogin(t);
    const res = await t.gql<{ narrowToken: { accessToken: string; tokenType: string } }>(
      'mutation { narrowToken(scopes: ["notes:read"]) { accessToken tokenType } }',
      { authorization: `DPoP ${payload.accessToken}`, headers: await client.headers(payload.accessToken) },
    );
    expect(errorOf(res)).toBeUndefined();
    const narrowed = res.body.data!.narrowToken;
    expect(narrowed.tokenType).toBe("DPoP");
    expect(cnfJkt(narrowed.accessToken)).toBe(client.key.jkt);
    expect((await client.me(narrowed.accessToken)).body.data?.me?.id).toBe(payload.user.id);
  });
});

describe("a login without a proof (DPOP=optional)", () => {
  it("gets Bearer tokens with no cnf, usable with the Bearer scheme", async () => {
    const client = await dpopClient(t);
    const { email } = await boundLogin(t, client);
    const res = await t.gql<{ login: { accessToken: string; tokenType: string } }>(
      `mutation { login(input: { email: "${email}", password: "correct horse battery staple", refreshTokenDelivery: BODY }) { accessToken tokenType } }`,
    );
    const payload = res.body.data!.login;
    expect(payload.tokenType).toBe("Bearer");
    expect(cnfJkt(payload.accessToken)).toBeUndefined();
    expect((await t.gql(ME, { token: payload.accessToken })).status).toBe(200);
  });
});
