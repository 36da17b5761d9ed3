// DPOP=required: no account flow mints an unbound token, and no unbound (Bearer) token is accepted.
// Anonymous requests stay anonymous: public fields need no token, so they need no proof.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import {
  type AuthPayload,
  errorOf,
  LOGIN,
  REFRESH,
  REGISTER,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/test-server.js";
import {
  cnfJkt,
  createAccount,
  DPOP_TEST_ENV,
  dpopClient,
  expectRefused,
  ME,
  uniqueEmail,
} from "./dpop-client.js";

let required: TestServer;
/** Same database and signing keys, DPOP=optional: how an unbound token and family come to exist. */
let optional: TestServer;

beforeAll(async () => {
  optional = await startTestServer(DPOP_TEST_ENV);
  const database = optional.database as Database & { url: string };
  required = await startTestServer(
    { ...DPOP_TEST_ENV, DPOP: "required" },
    { clock: optional.clock, database },
  );
});
afterAll(async () => {
  await required?.close();
  await optional?.close();
});

async function unboundLogin(email: string): Promise<AuthPayload> {
  const res = await optional.gql<{ login: AuthPayload }>(LOGIN, {
    variables: { input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
  });
  return res.body.data!.login;
}

describe("DPOP=required", () => {
  it("refuses a login without a proof: 401 dpop_required, before the password is checked", async () => {
    const email = await createAccount(optional);
    const res = await required.gql(LOGIN, {
      variables: { input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
    });
    expectRefused(res, "dpop_required", "invalid_token");
    // The same answer for a wrong password: the refusal tells nothing about the account.
    const wrong = await required.gql(LOGIN, {
      variables: { input: { email, password: "not the password at all", refreshTokenDelivery: "BODY" } },
    });
    expectRefused(wrong, "dpop_required", "invalid_token");
    const failures = await required.database.prisma.auditEvent.count({ where: { type: "login.failed" } });
    expect(failures).toBe(0);
  });

  it("refuses a registration without a proof, and creates no account", async () => {
    const email = uniqueEmail();
    const res = await required.gql(REGISTER, {
      variables: {
        input: { email, password: TEST_PASSWORD, displayName: "No key", refreshTokenDelivery: "BODY" },
      },
    });
    expectRefused(res, "dpop_required", "invalid_token");
    expect(await required.database.prisma.user.findUnique({ where: { email } })).toBeNull();
  });

  it("binds a login and a registration made with a proof", async () => {
    const client = await dpopClient(required);
    const registered = await client.register();
    expect(errorOf(registered)).toBeUndefined();
    expect(registered.body.data!.register.tokenType).toBe("DPoP");
    const login = await client.login(registered.body.data!.register.user.email);
    const payload = login.body.data!.login;
    expect(payload.tokenType).toBe("DPoP");
    expect(cnfJkt(payload.accessToken)).toBe(client.key.jkt);
    expect((await client.me(payload.accessToken)).body.data?.me?.id).toBe(payload.user.id);
    const refreshed = await client.refresh(payload.refreshToken!);
    expect(errorOf(refreshed)).toBeUndefined();
  });

  it("refuses a valid unbound token with the Bearer scheme", async () => {
    const payload = await unboundLogin(await createAccount(optional));
    expect((await optional.gql(ME, { token: payload.accessToken })).status).toBe(200);
    expectRefused(await required.gql(ME, { token: payload.accessToken }), "dpop_required", "invalid_token");
  });

  it("refuses a valid unbound token with the DPoP scheme and a proof", async () => {
    const payload = await unboundLogin(await createAccount(optional));
    const client = await dpopClient(required);
    const res = await client.me(payload.accessToken);
    expectRefused(res, "invalid_token", "invalid_token");
  });

  it("refuses to refresh an unbound family without a proof", async () => {
    const payload = await unboundLogin(await createAccount(optional));
    const res = await required.gql(REFRESH, { variables: { token: payload.refreshToken } });
    expectRefused(res, "dpop_required", "invalid_token");
  });

  it("still answers anonymous requests (no token, no proof)", async () => {
    const res = await required.gql(ME);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ me: null });
  });
});
