import { describe, expect, it } from "vitest";
import { MeDocument } from "../../../src/client/index.js";
import { ada, clientHarness, LOGIN_RETRIED_THEN_ME } from "./support/client-harness.js";

const START_SECONDS = Math.floor(Date.UTC(2030, 0, 1) / 1000);

describe("DPoP proofs from a client whose clock is wrong (RFC 9449 §11.1 iat window)", () => {
  for (const skewMinutes of [10, -10]) {
    it(`signs again on the server's clock when the first proof is refused and Date shows the client ${Math.abs(skewMinutes)} minutes ${skewMinutes > 0 ? "behind" : "ahead"}`, async () => {
      const { client, server } = clientHarness({ server: { serverSkewMs: skewMinutes * 60_000 } });
      await client.login(ada);
      await client.request(MeDocument);

      expect(server.calls.map((c) => [c.operationName, c.status])).toEqual(LOGIN_RETRIED_THEN_ME);
      expect(server.calls[0]?.proofError).toBe("iat");
      const serverSeconds = START_SECONDS + skewMinutes * 60;
      for (const call of server.calls.slice(1)) {
        expect(Math.abs((call.proof?.payload.iat ?? 0) - serverSeconds)).toBeLessThanOrEqual(1);
      }
    });
  }

  it("retries a refused proof only once, and not at all when the clocks agree", async () => {
    const agreeing = clientHarness({ server: { serverSkewMs: 0 } });
    agreeing.server.script("Login", {
      kind: "error",
      status: 401,
      code: "UNAUTHENTICATED",
      reason: "invalid_dpop_proof",
    });
    await expect(agreeing.client.login(ada)).rejects.toMatchObject({ reason: "invalid_dpop_proof" });
    expect(agreeing.server.count("Login")).toBe(1);

    const skewed = clientHarness({ server: { serverSkewMs: 600_000 } });
    skewed.server.script(
      "Login",
      { kind: "error", status: 401, code: "UNAUTHENTICATED", reason: "invalid_dpop_proof" },
      { kind: "error", status: 401, code: "UNAUTHENTICATED", reason: "invalid_dpop_proof" },
    );
    await expect(skewed.client.login(ada)).rejects.toMatchObject({ reason: "invalid_dpop_proof" });
    expect(skewed.server.count("Login")).toBe(2);
  });

  it("keeps the server's offset for later proofs, without a retry", async () => {
    const { client, server, time } = clientHarness({ server: { serverSkewMs: -600_000 } });
    await client.login(ada);
    time.advance(30_000);
    await client.request(MeDocument);
    expect(server.calls.slice(2).map((c) => c.status)).toEqual([200]);
    expect(server.calls.at(-1)?.proof?.payload.iat).toBeGreaterThanOrEqual(START_SECONDS - 600 + 30 - 1);
    expect(server.calls.at(-1)?.proof?.payload.iat).toBeLessThanOrEqual(START_SECONDS - 600 + 30 + 1);
  });
});
