// The promise of issue 6: a copied token is useless without the client's key. A thief holds a bound
// access token and a bound refresh token (BODY delivery) and tries them from another client, with
// another key or with none; every attempt is refused, and the legitimate client keeps working.
import { describe, expect, it } from "vitest";
import { errorOf, REFRESH, useTestServer } from "../support/test-server.js";
import {
  boundLogin,
  cnfJkt,
  DPOP_TEST_ENV,
  dpopClient,
  expectRefused,
  LOGIN_COOKIE,
  ME,
} from "./dpop-client.js";

const t = useTestServer(DPOP_TEST_ENV);

describe("a bound refresh token (RFC 9449 §5)", () => {
  it("is refused with a valid proof of another key", async () => {
    const { payload } = await boundLogin(t);
    const thief = await dpopClient(t);
    expectRefused(await thief.refresh(payload.refreshToken!), "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("is refused without a proof", async () => {
    const { payload } = await boundLogin(t);
    const res = await t.gql(REFRESH, { variables: { token: payload.refreshToken } });
    expectRefused(res, "dpop_required", "invalid_token");
  });

  it("is refused with a proof of its key that is invalid (wrong htu)", async () => {
    const { client, payload } = await boundLogin(t);
    const res = await client.refresh(payload.refreshToken!, { htu: "http://localhost:4000/other" });
    expectRefused(res, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("from the refresh cookie is refused without the key, like one from the body", async () => {
    const { client, email } = await boundLogin(t);
    const login = await t.gql(LOGIN_COOKIE, { variables: { email }, headers: await client.headers() });
    const cookie = login.setCookies["__Host-holdfast_rt"];
    expect(cookie).toBeDefined();
    const value = cookie!.slice(cookie!.indexOf("=") + 1, cookie!.indexOf(";"));
    const stolen = await t.gql(REFRESH, { cookies: { "__Host-holdfast_rt": value } });
    expectRefused(stolen, "dpop_required", "invalid_token");
    const thief = await dpopClient(t);
    const withKey = await t.gql(REFRESH, {
      cookies: { "__Host-holdfast_rt": value },
      headers: await thief.headers(),
    });
    expectRefused(withKey, "invalid_dpop_proof", "invalid_dpop_proof");
    const own = await t.gql(REFRESH, {
      cookies: { "__Host-holdfast_rt": value },
      headers: await client.headers(),
    });
    expect(errorOf(own)).toBeUndefined();
  });
});

describe("copied tokens replayed by another client", () => {
  it("are refused in every form, and the legitimate client keeps its session", async () => {
    const { client, payload } = await boundLogin(t);
    const { accessToken, refreshToken } = payload;
    const thief = await dpopClient(t);

    // The access token: as Bearer, as DPoP without a proof, as DPoP with the thief's own proof.
    expectRefused(await t.gql(ME, { token: accessToken }), "dpop_required", "invalid_token");
    expectRefused(
      await t.gql(ME, { authorization: `DPoP ${accessToken}` }),
      "dpop_required",
      "invalid_token",
    );
    expectRefused(await thief.me(accessToken), "invalid_dpop_proof", "invalid_dpop_proof");

    // A proof the legitimate client already used (seen in a log, say) cannot be played again.
    const seen = await client.proof({ accessToken });
    expect((await t.gql(ME, { authorization: `DPoP ${accessToken}`, headers: { dpop: seen } })).status).toBe(
      200,
    );
    expectRefused(
      await t.gql(ME, { authorization: `DPoP ${accessToken}`, headers: { dpop: seen } }),
      "invalid_dpop_proof",
      "invalid_dpop_proof",
    );
    expectRefused(
      await t.gql(REFRESH, { variables: { token: refreshToken }, headers: { dpop: seen } }),
      "invalid_dpop_proof",
      "invalid_dpop_proof",
    );

    // The refresh token: without a proof, and with the thief's key.
    expectRefused(
      await t.gql(REFRESH, { variables: { token: refreshToken } }),
      "dpop_required",
      "invalid_token",
    );
    expectRefused(await thief.refresh(refreshToken!), "invalid_dpop_proof", "invalid_dpop_proof");

    // None of that consumed the refresh token or ended the session: the owner rotates it normally.
    expect((await client.me(accessToken)).body.data?.me?.id).toBe(payload.user.id);
    const rotated = await client.refresh(refreshToken!);
    expect(errorOf(rotated)).toBeUndefined();
    const next = rotated.body.data!.refresh;
    expect(cnfJkt(next.accessToken)).toBe(client.key.jkt);
    expect((await client.me(next.accessToken)).body.data?.me?.id).toBe(payload.user.id);
    const session = await t.database.prisma.session.findUnique({ where: { id: payload.session.id } });
    expect(session?.revokedAt).toBeNull();
  });

  it("cannot end the owner's session by replaying a rotated refresh token without the key", async () => {
    const { client, payload } = await boundLogin(t);
    const next = (await client.refresh(payload.refreshToken!)).body.data!.refresh;
    t.clock.advanceSeconds(30); // past the reuse grace interval
    // The binding is checked before reuse detection, so a keyless thief cannot trigger the revocation.
    expectRefused(
      await t.gql(REFRESH, { variables: { token: payload.refreshToken } }),
      "dpop_required",
      "invalid_token",
    );
    const thief = await dpopClient(t);
    expectRefused(await thief.refresh(payload.refreshToken!), "invalid_dpop_proof", "invalid_dpop_proof");
    const again = await client.refresh(next.refreshToken!);
    expect(errorOf(again)).toBeUndefined();
  });

  it("leaves theft detection to the key holder: the owner reusing a rotated token still ends the family", async () => {
    // A retry of a lost answer gets its unused successor (test/dpop/lost-answer.test.ts); here the
    // successor was used, so the old token is a replay, and past the grace interval it ends the family.
    const { client, payload } = await boundLogin(t);
    const next = (await client.refresh(payload.refreshToken!)).body.data!.refresh;
    const newest = (await client.refresh(next.refreshToken!)).body.data!.refresh;
    t.clock.advanceSeconds(30);
    const reused = await client.refresh(payload.refreshToken!);
    expect(errorOf(reused)).toEqual({ code: "UNAUTHENTICATED", reason: "refresh_token_reused" });
    expect(errorOf(await client.refresh(newest.refreshToken!))?.code).toBe("UNAUTHENTICATED");
  });
});
