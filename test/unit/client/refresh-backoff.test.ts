import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../../src/client/backoff.js";
import { backoffDelayMs, MeDocument } from "../../../src/client/index.js";
import { ada, clientHarness, rejection } from "./support/client-harness.js";
import type { Scripted } from "./support/fake-holdfast-server.js";

const unavailable: Scripted = { kind: "error", status: 503, code: "SERVICE_UNAVAILABLE" };
const retry = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };

function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("backoffDelayMs", () => {
  it("grows exponentially up to maxDelayMs (the ceiling with jitter near 1)", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, retry, () => 0.999_999));
    expect(delays).toEqual([199, 399, 799, 1599, 3199, 4999, 4999]);
  });

  it("stays within [0, ceiling) for any jitter (full jitter)", () => {
    for (const r of [0, 0.01, 0.25, 0.5, 0.75, 0.999_999]) {
      for (let n = 1; n <= 8; n++) {
        const ceiling = Math.min(5000, 200 * 2 ** (n - 1));
        const delay = backoffDelayMs(n, retry, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it("clamps a misbehaving random source", () => {
    expect(backoffDelayMs(3, retry, () => 7)).toBe(800);
    expect(backoffDelayMs(3, retry, () => -1)).toBe(0);
    expect(backoffDelayMs(3, retry, () => Number.NaN)).toBe(0);
  });

  it("takes Retry-After as a floor, capped at maxDelayMs", () => {
    expect(backoffDelayMs(1, retry, () => 0, 2000)).toBe(2000);
    expect(backoffDelayMs(1, retry, () => 0, 60_000)).toBe(5000);
    expect(parseRetryAfter("3", 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
  });
});

describe("refresh retries", () => {
  it("retries network errors and 5xx with growing delays, jittered by the injected random", async () => {
    const { client, server, time } = clientHarness({ random: sequence([0.5]) });
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", unavailable, { kind: "network" }, { kind: "html", status: 502 }, unavailable);
    await time.run(client.request(MeDocument));
    expect(server.count("Refresh")).toBe(5);
    expect(time.fired).toEqual([100, 200, 400, 800]);
    expect(client.state().authenticated).toBe(true);
  });

  it("draws each delay from [0, ceiling) with a fresh random value", async () => {
    const randoms = [0.9, 0.1, 0.7, 0.3];
    const { client, server, time } = clientHarness({ random: sequence(randoms) });
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", unavailable, unavailable, unavailable, unavailable);
    await time.run(client.request(MeDocument));
    expect(time.fired).toEqual([180, 40, 560, 480]);
  });

  it("honours Retry-After on 429", async () => {
    const { client, server, time } = clientHarness({ random: () => 0 });
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", { kind: "error", status: 429, code: "TOO_MANY_REQUESTS", retryAfter: "2" });
    await time.run(client.request(MeDocument));
    expect(time.fired).toEqual([2000]);
    expect(server.count("Refresh")).toBe(2);
  });

  it("after maxAttempts with an expired token: session lost, state cleared, nothing more sent", async () => {
    const { client, server, time, lost } = clientHarness();
    await client.login(ada);
    time.advance(301_000);
    server.script("Refresh", ...Array.from({ length: 10 }, () => unavailable));
    const error = await time.run(rejection(client.request(MeDocument)));
    expect(error.code).toBe("SESSION_LOST");
    expect(error.reason).toBe("refresh_failed");
    expect(lost).toEqual(["refresh_failed"]);
    expect(server.count("Refresh")).toBe(5);
    expect(server.count("Me")).toBe(0);
    expect(client.state()).toMatchObject({ authenticated: false, expiresAt: null, scopes: [] });

    const sent = server.calls.length;
    expect(time.pendingTimers).toBe(0);
    time.advance(3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.calls.length).toBe(sent);

    // Later calls go out anonymous; they do not restart refreshing.
    const result = await client.request(MeDocument);
    expect(result.data.me).toBeNull();
    expect(server.calls.at(-1)?.authorization).toBeNull();
    expect(server.count("Refresh")).toBe(5);
    expect(lost).toEqual(["refresh_failed"]);
  });

  it("after maxAttempts ahead of expiry: keeps the still-valid token and tries again only after a pause", async () => {
    const { client, server, time, lost } = clientHarness();
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", ...Array.from({ length: 5 }, () => unavailable));
    const result = await time.run(client.request(MeDocument));
    expect(result.data.me?.id).toBe("u_1");
    expect(lost).toEqual([]);
    expect(server.count("Refresh")).toBe(5);
    expect(server.calls.at(-1)?.authorization).toBe(`DPoP ${server.issuedAccessTokens[0]}`);

    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(5);
    time.advance(retry.maxDelayMs);
    await client.request(MeDocument);
    expect(server.count("Refresh")).toBe(6);
    expect(server.calls.at(-1)?.authorization).toBe(`DPoP ${server.issuedAccessTokens[1]}`);
  });

  it("a forced refresh that runs out of attempts rejects but keeps a still-valid session", async () => {
    const { client, server, time, lost } = clientHarness();
    await client.login(ada);
    server.script("Refresh", ...Array.from({ length: 5 }, () => unavailable));
    const error = await time.run(rejection(client.refresh()));
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(lost).toEqual([]);
    expect(client.state().authenticated).toBe(true);
  });

  it("does not retry a refusal: invalid_refresh_token ends the session after one call", async () => {
    const { client, server, time, lost } = clientHarness();
    await client.login(ada);
    time.advance(250_000);
    server.script("Refresh", {
      kind: "error",
      status: 401,
      code: "UNAUTHENTICATED",
      reason: "invalid_refresh_token",
    });
    const error = await time.run(rejection(client.request(MeDocument)));
    expect(error.reason).toBe("invalid_refresh_token");
    expect(server.count("Refresh")).toBe(1);
    expect(lost).toEqual(["invalid_refresh_token"]);
  });

  it("respects a custom maxAttempts", async () => {
    const { client, server, time } = clientHarness({ retry: { maxAttempts: 2 } });
    await client.login(ada);
    time.advance(301_000);
    server.script("Refresh", unavailable, unavailable, unavailable);
    const error = await time.run(rejection(client.request(MeDocument)));
    expect(error.code).toBe("SESSION_LOST");
    expect(server.count("Refresh")).toBe(2);
  });
});
