import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.split(":")[0]!);
    throw error;
  }
  return [];
}

describe("hardening configuration", () => {
  it("starts with the documented limits", () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      loginFailuresPerAccount: 5,
      loginBackoffSeconds: 60,
      loginBackoffMaxSeconds: 900,
      loginFailuresPerIpPerHour: 100,
      registerPerIpPerHour: 20,
      refreshPerIpPerMinute: 600,
    });
    expect(config.graphqlLimits).toEqual({
      maxDepth: 10,
      maxCost: 50_000,
      maxAliases: 15,
      maxDirectives: 50,
      maxTokens: 1000,
    });
    expect(config.http.trustProxy).toBe(false);
  });

  it("trusts X-Forwarded-For only from listed proxies, never from anyone", () => {
    expect(loadConfig({ TRUST_PROXY: "10.0.0.1, 10.1.0.0/16,loopback" }).http.trustProxy).toEqual([
      "10.0.0.1",
      "10.1.0.0/16",
      "loopback",
    ]);
    for (const value of ["true", "*", "1", "0.0.0.0/0 ; rm", "any"]) {
      expect(problems({ TRUST_PROXY: value })).toEqual(["TRUST_PROXY"]);
    }
  });

  it("refuses a token limit the parser's stack could not take, and a back-off longer than its cap", () => {
    expect(problems({ GRAPHQL_MAX_TOKENS: "2001" })).toEqual(["GRAPHQL_MAX_TOKENS"]);
    expect(
      problems({ RATE_LIMIT_LOGIN_BACKOFF_SECONDS: "600", RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS: "300" }),
    ).toEqual(["RATE_LIMIT_LOGIN_BACKOFF_SECONDS"]);
    expect(problems({ RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: "0" })).toEqual([
      "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT",
    ]);
  });
});
