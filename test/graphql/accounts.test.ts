import { describe, expect, it } from "vitest";
import {
  errorOf,
  LOGIN,
  REGISTER,
  registerUser,
  TEST_PASSWORD,
  useTestServer,
} from "../support/test-server.js";

const t = useTestServer();

function register(input: Record<string, unknown>) {
  return t.gql(REGISTER, { variables: { input: { refreshTokenDelivery: "BODY", ...input } } });
}

describe("register", () => {
  it("normalises the email (trim, lower-case) and never stores the password", async () => {
    const res = await register({
      email: "  Mixed.Case@Example.COM ",
      password: TEST_PASSWORD,
      displayName: " Mixed ",
    });
    expect(errorOf(res)).toBeUndefined();
    const row = await t.database.prisma.user.findUniqueOrThrow({
      where: { email: "mixed.case@example.com" },
    });
    expect(row.displayName).toBe("Mixed");
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain(TEST_PASSWORD);
  });

  it("refuses a duplicate email with a clear error, whatever its case", async () => {
    await register({ email: "dup@example.com", password: TEST_PASSWORD, displayName: "A" });
    const again = await register({ email: "DUP@example.com", password: TEST_PASSWORD, displayName: "B" });
    expect(errorOf(again)).toEqual({ code: "BAD_USER_INPUT", reason: "email_taken" });
  });

  it.each([
    ["short password", { password: "elevenchars" }, "weak_password"],
    ["password over 1024 bytes", { password: "é".repeat(513) }, "password_too_long"],
    ["malformed email", { email: "not-an-email" }, "invalid_email"],
    ["blank display name", { displayName: "   " }, "invalid_display_name"],
  ])("refuses a %s", async (_name, override, reason) => {
    const res = await register({
      email: `r${Math.random()}@example.com`,
      password: TEST_PASSWORD,
      displayName: "R",
      ...override,
    });
    expect(errorOf(res)).toEqual({ code: "BAD_USER_INPUT", reason });
  });

  it("accepts a password of exactly 12 characters", async () => {
    const res = await register({ email: "twelve@example.com", password: "123456789012", displayName: "T" });
    expect(errorOf(res)).toBeUndefined();
  });
});

describe("login", () => {
  it("answers a wrong password and an unknown email with the same error", async () => {
    const user = await registerUser(t);
    const wrong = await t.gql(LOGIN, {
      variables: { input: { email: user.user.email, password: "wrong password 123" } },
    });
    const unknown = await t.gql(LOGIN, {
      variables: { input: { email: "nobody@example.com", password: "wrong password 123" } },
    });
    expect(errorOf(wrong)).toEqual({ code: "UNAUTHENTICATED", reason: "invalid_credentials" });
    expect(unknown.body.errors).toEqual(wrong.body.errors);
    expect(unknown.status).toBe(wrong.status);
  });

  it("issues a short-lived EdDSA access token in the RFC 9068 shape", async () => {
    const user = await registerUser(t);
    const [header, payload] = user.accessToken
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
    expect(typeof header.kid).toBe("string");
    expect(payload).toMatchObject({
      sub: user.user.id,
      sid: user.session.id,
      aud: "holdfast",
      iss: "http://localhost:4000",
    });
    expect(payload.exp - payload.iat).toBe(300);
    expect(new Date(user.expiresAt).getTime()).toBe(payload.exp * 1000);
  });

  it("records login failures and successes as audit events without secrets", async () => {
    const user = await registerUser(t);
    await t.gql(LOGIN, { variables: { input: { email: user.user.email, password: "wrong password 123" } } });
    const events = await t.database.prisma.auditEvent.findMany({ where: { userId: user.user.id } });
    const types = events.map((e) => e.type);
    expect(types).toContain("login.failed");
    expect(types).toContain("login.succeeded");
    expect(JSON.stringify(events)).not.toContain("wrong password");
    expect(JSON.stringify(events)).not.toContain(user.refreshToken!);
  });
});
