// RFC 9068 §2.2.1: auth_time, acr and amr travel in the access token; the verifier reads them
// into the viewer, and refuses a token whose set is partial or malformed (it is not one of ours).
import { describe, expect, it } from "vitest";
import { epochSeconds } from "../../../src/clock.js";
import { closeAfterEach } from "../../support/close-after-each.js";
import { createTokenFixture, expectUnauthenticated } from "./token-fixture.js";

const opened = closeAfterEach();

describe("authentication claims", () => {
  it("carries auth_time, acr and amr from issue to viewer", async () => {
    const f = opened(await createTokenFixture());
    const authTime = epochSeconds(f.clock.now()) - 120;
    const { token, claims } = await f.issue({
      authentication: { authTime, acr: "phr", amr: ["hwk", "user"] },
    });
    expect(claims).toMatchObject({ auth_time: authTime, acr: "phr", amr: ["hwk", "user"] });
    const viewer = await f.verifier.verify(token);
    expect(viewer.authentication).toEqual({ authTime, acr: "phr", amr: ["hwk", "user"] });
  });

  it("gives a token without them no authentication (never enough for a step-up rule)", async () => {
    const f = opened(await createTokenFixture());
    const { token } = await f.issue();
    expect((await f.verifier.verify(token)).authentication).toBeNull();
  });

  it("issues an auth_time from an instance whose clock runs ahead as iat, never after it", async () => {
    const f = opened(await createTokenFixture());
    const iat = epochSeconds(f.clock.now());
    // A session signed in on an instance 5 min ahead of this one: a valid authentication, not an error.
    const { claims } = await f.issue({ authentication: { authTime: iat + 300, acr: "pwd", amr: ["pwd"] } });
    expect(claims).toMatchObject({ iat, auth_time: iat });
  });

  it("refuses to issue an auth_time that is not a whole second", async () => {
    const f = opened(await createTokenFixture());
    const authTime = epochSeconds(f.clock.now()) - 0.5;
    await expect(f.issue({ authentication: { authTime, acr: "pwd", amr: ["pwd"] } })).rejects.toThrow(
      TypeError,
    );
  });

  it.each([
    ["auth_time without acr and amr", { auth_time: 0 }],
    ["acr alone", { acr: "phr" }],
    ["auth_time as a string", { auth_time: "1", acr: "pwd", amr: ["pwd"] }],
    ["auth_time after iat", { auth_time: "future", acr: "pwd", amr: ["pwd"] }],
    ["amr as a string", { auth_time: 0, acr: "pwd", amr: "pwd" }],
    ["amr empty", { auth_time: 0, acr: "pwd", amr: [] }],
    ["acr with a space", { auth_time: 0, acr: "p w d", amr: ["pwd"] }],
  ])("refuses a token with %s as invalid_token", async (_name, extra) => {
    const f = opened(await createTokenFixture());
    const claims = f.claims();
    const patch = { ...extra } as Record<string, unknown>;
    if (patch.auth_time === "future") patch.auth_time = (claims.iat as number) + 60;
    else if (patch.auth_time === 0) patch.auth_time = (claims.iat as number) - 10;
    await expectUnauthenticated(f.verifier.verify(await f.forge({ ...claims, ...patch })), "invalid_token");
  });
});
