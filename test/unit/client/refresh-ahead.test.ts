import { describe, expect, it, vi } from "vitest";
import { MeDocument } from "../../../src/client/index.js";
import { refreshSchedule } from "../../../src/client/refresh-schedule.js";
import { ada, clientHarness } from "./support/client-harness.js";

const lastCall = (calls: { operationName: string; authorization: string | null }[], name: string) =>
  calls.filter((c) => c.operationName === name).at(-1);

describe("refresh ahead of expiry", () => {
  it("does not refresh before 80% of the lifetime has passed", async () => {
    const { client, server, time } = clientHarness();
    await client.login(ada);
    time.advance(239_999);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(0);
    expect(lastCall(server.calls, "Me")?.authorization).toBe(`DPoP ${server.issuedAccessTokens[0]}`);
  });

  it("refreshes before the request once 80% of the lifetime has passed, and sends the new token", async () => {
    const { client, server, time } = clientHarness();
    await client.login(ada);
    time.advance(240_000);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(1);
    expect(server.calls.map((c) => c.operationName)).toEqual(["Login", "Refresh", "Me"]);
    expect(lastCall(server.calls, "Me")?.authorization).toBe(`DPoP ${server.issuedAccessTokens[1]}`);
  });

  it.each([
    // 30 s tokens: 80% is 24 s, but 10 s before expiry is 20 s.
    [
      "refreshes when fewer than minSecondsLeft remain, even before the fraction",
      { server: { accessTokenTtlSeconds: 30 } },
      20_000,
    ],
    ["honours a custom fraction", { refreshAhead: { fraction: 0.5 } }, 150_000],
  ] as const)("%s", async (_name, options, refreshAtMs) => {
    const { client, server, time } = clientHarness(options);
    await client.login(ada);
    time.advance(refreshAtMs - 1);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(0);
    time.advance(1);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(1);
  });

  it("measures the lifetime on the server's clock when the client clock runs 10 minutes slow", async () => {
    const { client, server, time } = clientHarness({ server: { serverSkewMs: 600_000 } });
    await client.login(ada);
    time.advance(240_000);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(1);
    expect(server.calls.at(-1)?.status).toBe(200);
  });

  it("does not refresh on every request when the client clock runs 10 minutes fast", async () => {
    const { client, server, time } = clientHarness({ server: { serverSkewMs: -600_000 } });
    await client.login(ada);
    time.advance(1_000);
    await client.request(MeDocument);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(0);
  });

  it("with refreshTimer, refreshes on its own at 80% without a request", async () => {
    const { client, server, time } = clientHarness({ refreshTimer: true });
    const session = await client.login(ada);
    time.advance(239_999);
    expect(server.count("Refresh")).toBe(0);
    time.advance(1);
    await vi.waitFor(() => expect(server.count("Refresh")).toBe(1));
    await vi.waitFor(() =>
      expect(client.state().expiresAt?.getTime()).toBeGreaterThan(session.expiresAt.getTime()),
    );
    client.destroy();
    expect(time.pendingTimers).toBe(0);
  });
});

describe("refreshSchedule", () => {
  const options = { fraction: 0.8, minSecondsLeft: 10 };
  it("places the refresh at the fraction of the lifetime", () => {
    expect(refreshSchedule(new Date(300_000), 0, null, options)).toEqual({
      localExpiresAtMs: 300_000,
      refreshAtMs: 240_000,
    });
  });
  it("refreshes at once a token that arrives already expired", () => {
    expect(refreshSchedule(new Date(0), 5_000, null, options).refreshAtMs).toBe(5_000);
  });
  it("corrects for the server's Date", () => {
    // Server is 60 s ahead: the token lives 300 s from the server's now, not 360 s from ours.
    expect(refreshSchedule(new Date(360_000), 0, 60_000, options)).toEqual({
      localExpiresAtMs: 300_000,
      refreshAtMs: 240_000,
    });
  });
});
