import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/config.js";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("starts on secure defaults with nothing set: production, SQLite, 300 s tokens, no introspection", () => {
    const config = loadConfig({});
    expect(config.env).toBe("production");
    expect(config.database).toMatchObject({ provider: "sqlite", autoMigrate: true });
    expect(config.tokens).toMatchObject({
      alg: "EdDSA",
      accessTokenTtlSeconds: 300,
      clockToleranceSeconds: 5,
    });
    expect(config.http.introspection).toBe(false);
    expect(config.http.demo).toBe(false);
    expect(config.refresh).toMatchObject({ reuseGraceSeconds: 10, cookieName: "__Host-holdfast_rt" });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("turns on Sandbox conveniences only in development", () => {
    expect(loadConfig({ NODE_ENV: "development" }).http.introspection).toBe(true);
  });

  it("names every bad variable at once", () => {
    const found = problems({
      PORT: "http",
      ACCESS_TOKEN_TTL_SECONDS: "30",
      DATABASE_URL: "mysql://x",
      JWT_ALG: "HS256",
    });
    expect(found.map((p) => p.split(":")[0]).sort()).toEqual([
      "ACCESS_TOKEN_TTL_SECONDS",
      "DATABASE_URL",
      "JWT_ALG",
      "PORT",
    ]);
  });

  it("keeps the access-token lifetime between 60 s and 15 min", () => {
    expect(problems({ ACCESS_TOKEN_TTL_SECONDS: "59" })).toHaveLength(1);
    expect(problems({ ACCESS_TOKEN_TTL_SECONDS: "901" })).toHaveLength(1);
    expect(loadConfig({ ACCESS_TOKEN_TTL_SECONDS: "60" }).tokens.accessTokenTtlSeconds).toBe(60);
  });

  it("refuses an idle lifetime longer than the absolute one", () => {
    expect(problems({ REFRESH_IDLE_TTL_SECONDS: "7200", REFRESH_ABSOLUTE_TTL_SECONDS: "3600" })[0]).toMatch(
      /^REFRESH_IDLE_TTL_SECONDS/,
    );
  });

  it("refuses a refresh cookie without a __Host- or __Secure- prefix", () => {
    expect(problems({ REFRESH_COOKIE_NAME: "rt" })[0]).toMatch(/^REFRESH_COOKIE_NAME/);
  });

  it("selects PostgreSQL by URL and does not migrate it implicitly", () => {
    const { database } = loadConfig({ DATABASE_URL: "postgresql://db.internal/holdfast" });
    expect(database).toMatchObject({ provider: "postgres", autoMigrate: false });
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", JWT_ALG: "" }).server.port).toBe(4000);
  });

  it("requires REVOCATION_CHANNEL_SECRET with REDIS_URL in production, and no shorter than 32 characters", () => {
    const redis = { REDIS_URL: "redis://127.0.0.1:6379" };
    expect(problems(redis).map((p) => p.split(":")[0])).toEqual(["REVOCATION_CHANNEL_SECRET"]);
    expect(problems({ ...redis, REVOCATION_CHANNEL_SECRET: "short" }).map((p) => p.split(":")[0])).toEqual([
      "REVOCATION_CHANNEL_SECRET",
    ]);
    const secret = "a".repeat(32);
    expect(loadConfig({ ...redis, REVOCATION_CHANNEL_SECRET: secret }).redis?.channelSecret).toBe(secret);
    // Outside production it may be left out: the channel is then signed with a public key.
    expect(loadConfig({ ...redis, NODE_ENV: "development" }).redis?.channelSecret).toBeNull();
  });

  it("refuses a short key-encryption secret", () => {
    expect(problems({ KEY_ENCRYPTION_SECRET: "short" })[0]).toMatch(/^KEY_ENCRYPTION_SECRET/);
  });
});
