// A rotation that committed but whose answer never reached the client (a dropped connection, a
// crash, a slow restart) must not log the client out when it retries with the token it sent. For a
// DPoP-bound family the proof from the bound key shows the retry comes from the owner: it gets the
// same, unused successor however late. A bearer family keeps the grace interval (a bearer retry
// and a bearer copy look the same), and a copy without the key never gets anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorOf, REFRESH, startTestServer, type TestServer } from "../support/test-server.js";
import { boundLogin, DPOP_TEST_ENV, dpopClient, expectRefused } from "./dpop-client.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer(DPOP_TEST_ENV);
});
afterAll(async () => {
  await t.close();
});

const HOUR_MS = 3_600_000;

describe("a DPoP-bound retry after a lost answer", () => {
  it("gets the same unused successor an hour after the rotation committed", async () => {
    const { client, payload } = await boundLogin(t);
    const sent = payload.refreshToken!;
    const lost = await client.refresh(sent);
    const successor = lost.body.data?.refresh.refreshToken;
    expect(successor).toBeTruthy();

    t.clock.advance(HOUR_MS);
    const retry = await client.refresh(sent);
    expect(errorOf(retry)).toBeUndefined();
    expect(retry.body.data?.refresh.refreshToken).toBe(successor);
    expect(retry.body.data?.refresh.session.id).toBe(payload.session.id);
    // The access token answered with it works: the session was not revoked.
    expect(errorOf(await client.me(retry.body.data!.refresh.accessToken))).toBeUndefined();
    // And the successor rotates on as usual.
    const next = await client.refresh(successor!);
    expect(errorOf(next)).toBeUndefined();
    expect(next.body.data?.refresh.refreshToken).not.toBe(successor);
  });

  it("is still refused to a thief with the copied token but another key, and the owner keeps the session", async () => {
    const { client, payload } = await boundLogin(t);
    const sent = payload.refreshToken!;
    const successor = (await client.refresh(sent)).body.data?.refresh.refreshToken;
    t.clock.advance(HOUR_MS);
    const thief = await dpopClient(t);
    expectRefused(await thief.refresh(sent), "invalid_dpop_proof", "invalid_dpop_proof");
    expectRefused(await t.gql(REFRESH, { variables: { token: sent } }), "dpop_required", "invalid_token");
    const owner = await client.refresh(sent);
    expect(owner.body.data?.refresh.refreshToken).toBe(successor);
  });

  it("is theft once the successor was used and the grace interval is over (the answer was not lost)", async () => {
    const { client, payload } = await boundLogin(t);
    const sent = payload.refreshToken!;
    const successor = (await client.refresh(sent)).body.data!.refresh.refreshToken!;
    expect(errorOf(await client.refresh(successor))).toBeUndefined();
    t.clock.advance(t.config.refresh.reuseGraceSeconds * 1000);
    const late = await client.refresh(sent);
    expect(errorOf(late)).toEqual({ code: "UNAUTHENTICATED", reason: "refresh_token_reused" });
  });
});

describe("a bearer retry after a lost answer", () => {
  it("gets the same successor within the grace interval and is theft at its end", async () => {
    const { body } = await t.gql<{ register: { refreshToken: string } }>(
      `mutation { register(input: { email: "bearer-lost-${Date.now()}@example.com", password: "correct horse battery staple", displayName: "B", refreshTokenDelivery: BODY }) { refreshToken } }`,
    );
    const sent = body.data!.register.refreshToken;
    const refresh = (token: string) =>
      t.gql<{ refresh: { refreshToken: string } }>(REFRESH, { variables: { token } });
    const successor = (await refresh(sent)).body.data!.refresh.refreshToken;
    t.clock.advance(t.config.refresh.reuseGraceSeconds * 1000 - 1);
    expect((await refresh(sent)).body.data?.refresh.refreshToken).toBe(successor);
    t.clock.advance(1);
    expect(errorOf(await refresh(sent))).toEqual({ code: "UNAUTHENTICATED", reason: "refresh_token_reused" });
  });
});
