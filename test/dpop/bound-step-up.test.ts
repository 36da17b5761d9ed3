// Step-up with a DPoP-bound session: the refusal uses the DPoP scheme (RFC 9449 §7.1 with RFC 9470's
// error), and reauthenticate answers a token bound to the same key, usable only with that key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorOf, startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";
import { boundLogin, cnfJkt, DPOP_ALGS, DPOP_TEST_ENV, dpopClient } from "./dpop-client.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(DPOP_TEST_ENV);
});
afterAll(async () => {
  await t.close();
});

const REAUTH = `mutation($p: String) { reauthenticate(password: $p) { accessToken tokenType session { id } } }`;

describe("step-up on a DPoP-bound session", () => {
  it("refuses with a DPoP challenge, then reauthenticates to a token bound to the same key", async () => {
    const { client, payload } = await boundLogin(t);
    t.clock.advanceSeconds(t.config.stepUp.maxAgeSeconds + 1);
    const refreshed = await client.refresh(payload.refreshToken!);
    const stale = refreshed.body.data!.refresh.accessToken;

    const refused = await t.gql("mutation { logoutEverywhere }", {
      authorization: `DPoP ${stale}`,
      headers: await client.headers(stale),
    });
    expect(refused.status).toBe(401);
    const challenge = String(refused.headers["www-authenticate"]);
    expect(challenge).toMatch(/^DPoP error="insufficient_user_authentication"/);
    expect(challenge).toContain(`max_age="${t.config.stepUp.maxAgeSeconds}"`);
    expect(challenge).toContain(DPOP_ALGS);

    const raised = await t.gql<{
      reauthenticate: { accessToken: string; tokenType: string; session: { id: string } };
    }>(REAUTH, {
      authorization: `DPoP ${stale}`,
      headers: await client.headers(stale),
      variables: { p: TEST_PASSWORD },
    });
    expect(errorOf(raised)).toBeUndefined();
    const fresh = raised.body.data!.reauthenticate;
    expect(fresh.tokenType).toBe("DPoP");
    expect(fresh.session.id).toBe(payload.session.id);
    expect(cnfJkt(fresh.accessToken)).toBe(client.key.jkt);

    // A copy of the raised token is useless without the key: another key's proof is refused.
    const thief = await dpopClient(t);
    const stolen = await t.gql("mutation { logoutEverywhere }", {
      authorization: `DPoP ${fresh.accessToken}`,
      headers: await thief.headers(fresh.accessToken),
    });
    expect(stolen.status).toBe(401);
    expect(errorOf(stolen)?.reason).toBe("invalid_dpop_proof");

    const owner = await t.gql("mutation { logoutEverywhere }", {
      authorization: `DPoP ${fresh.accessToken}`,
      headers: await client.headers(fresh.accessToken),
    });
    expect(owner.body.data).toEqual({ logoutEverywhere: true });
  });
});
