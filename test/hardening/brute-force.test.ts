import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import {
  errorOf,
  harnessPerTest,
  loginAs,
  refreshWith,
  register,
  TEST_PASSWORD,
  TRANSPORTS,
} from "./support/harness.js";
import { passwordChecks } from "./support/password-checks.js";

// A refused attempt must never reach argon2 (support/password-checks.ts).
vi.mock("../../src/auth/passwords.js", async (importOriginal) =>
  (await import("./support/password-checks.js")).countingPasswords(await importOriginal()),
);

const WRONG = "not the password at all";
const start = harnessPerTest();

describe.each(TRANSPORTS)("login brute force (%s)", (transport) => {
  it("limits the 6th wrong password for one account, even when each attempt comes from another address", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const before = passwordChecks();
    for (let i = 1; i <= 5; i++) {
      expect(errorOf(await loginAs(t, user.email, WRONG, `203.0.113.${i}`))).toEqual({
        code: "UNAUTHENTICATED",
        reason: "invalid_credentials",
      });
    }
    const sixth = await loginAs(t, user.email, WRONG, "203.0.113.6");
    expect(errorOf(sixth)).toEqual({ code: "TOO_MANY_REQUESTS", reason: "rate_limited" });
    const retryAfter = sixth.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(t.config.rateLimits.loginBackoffSeconds);
    // While the account backs off, even the right password is not checked.
    expect(errorOf(await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.7"))?.code).toBe(
      "TOO_MANY_REQUESTS",
    );
    expect(passwordChecks() - before).toBe(5);
  });

  it("answers a limited unknown email exactly as it answers a limited known one", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const unknown = `nobody-${Date.now()}@example.com`;
    for (let i = 1; i <= 5; i++) {
      await loginAs(t, user.email, WRONG, `203.0.113.${i}`);
      await loginAs(t, unknown, WRONG, `203.0.113.${i}`);
    }
    const known = await loginAs(t, user.email, WRONG, "203.0.113.50");
    const missing = await loginAs(t, unknown, WRONG, "203.0.113.50");
    expect(errorOf(known)?.code).toBe("TOO_MANY_REQUESTS");
    expect(known.status).toBe(missing.status);
    const retry = (a: typeof known) => a.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
    expect(Math.abs(retry(known) - retry(missing))).toBeLessThanOrEqual(1);
    const strip = (a: typeof known) =>
      JSON.stringify(a.body).replace(/"retryAfterSeconds":\d+/, '"retryAfterSeconds":0');
    expect(strip(known)).toBe(strip(missing));
  });

  it("counts the normalised email: case and spaces do not buy fresh attempts", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const variants = [user.email, user.email.toUpperCase(), ` ${user.email}`, `${user.email}  `, user.email];
    for (const [i, email] of variants.entries()) await loginAs(t, email, WRONG, `203.0.113.${i + 1}`);
    expect(errorOf(await loginAs(t, ` ${user.email.toUpperCase()} `, WRONG, "203.0.113.9"))?.code).toBe(
      "TOO_MANY_REQUESTS",
    );
  });

  it("forgets an account's failures after a successful login", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    for (let i = 0; i < 4; i++) await loginAs(t, user.email, WRONG, "203.0.113.1");
    expect(errorOf(await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.1"))).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      expect(errorOf(await loginAs(t, user.email, WRONG, "203.0.113.1"))?.reason).toBe("invalid_credentials");
    }
    expect(errorOf(await loginAs(t, user.email, WRONG, "203.0.113.1"))?.code).toBe("TOO_MANY_REQUESTS");
  });

  // rate-limiter-flexible keeps its own time (Date.now), not the injected clock: this test uses
  // a 1 s back-off and really waits, with margins that hold on a slow machine.
  it("lets one attempt through after each back-off and doubles the back-off when it fails", async () => {
    const t = await start(transport, {
      RATE_LIMIT_LOGIN_BACKOFF_SECONDS: "1",
      RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS: "4",
    });
    const { user } = await register(t, { ip: "198.51.100.1" });
    for (let i = 0; i < 5; i++) await loginAs(t, user.email, WRONG, "203.0.113.1");
    const limited = await loginAs(t, user.email, WRONG, "203.0.113.1");
    expect(limited.body.errors?.[0]?.extensions?.retryAfterSeconds).toBe(1);
    await sleep(1100);
    expect(errorOf(await loginAs(t, user.email, WRONG, "203.0.113.1"))?.reason).toBe("invalid_credentials");
    const doubled = await loginAs(t, user.email, WRONG, "203.0.113.1");
    expect(errorOf(doubled)?.code).toBe("TOO_MANY_REQUESTS");
    expect(doubled.body.errors?.[0]?.extensions?.retryAfterSeconds).toBe(2);
    await sleep(2100);
    expect(errorOf(await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.1"))).toBeUndefined();
  });

  it("checks exactly 5 of 20 concurrent wrong passwords for one account", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const before = passwordChecks();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => loginAs(t, user.email, WRONG, `203.0.113.${i + 1}`)),
    );
    const codes = answers.map((a) => errorOf(a)?.code);
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(5);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS")).toHaveLength(15);
    expect(passwordChecks() - before).toBe(5);
  });

  it("limits one address after 100 failed logins across 100 accounts, and only that address", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const before = passwordChecks();
    for (let i = 0; i < 100; i++) {
      const answer = await loginAs(t, `victim${i}-${Date.now()}@example.com`, WRONG, "203.0.113.66");
      expect(errorOf(answer)?.reason).toBe("invalid_credentials");
    }
    const next = await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.66");
    expect(errorOf(next)).toEqual({ code: "TOO_MANY_REQUESTS", reason: "rate_limited" });
    expect(passwordChecks() - before).toBe(100);
    expect(errorOf(await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.67"))).toBeUndefined();
  });

  it("charges an address only for failures: its successful logins are given back", async () => {
    const t = await start(transport, { RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "3" });
    const { user } = await register(t, { ip: "198.51.100.1" });
    for (let i = 0; i < 5; i++)
      expect(errorOf(await loginAs(t, user.email, TEST_PASSWORD, "203.0.113.1"))).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      expect(errorOf(await loginAs(t, `other${i}@example.com`, WRONG, "203.0.113.1"))?.reason).toBe(
        "invalid_credentials",
      );
    }
    expect(errorOf(await loginAs(t, "other9@example.com", WRONG, "203.0.113.1"))?.code).toBe(
      "TOO_MANY_REQUESTS",
    );
  });

  it("refuses two logins in one operation before any password is checked", async () => {
    const t = await start(transport);
    const { user } = await register(t, { ip: "198.51.100.1" });
    const before = passwordChecks();
    const res = await t.gql(
      `mutation { a: login(input: { email: "${user.email}", password: "${WRONG}" }) { accessToken }
                  b: login(input: { email: "${user.email}", password: "${TEST_PASSWORD}" }) { accessToken } }`,
    );
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "multiple_credential_fields" });
    expect(passwordChecks()).toBe(before);
  });
});

describe.each(TRANSPORTS)("registration and refresh limits (%s)", (transport) => {
  it("limits registrations per address", async () => {
    const t = await start(transport, { RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "3" });
    for (let i = 0; i < 3; i++) await register(t, { ip: "203.0.113.1" });
    await expect(register(t, { ip: "203.0.113.1" })).rejects.toThrow(/TOO_MANY_REQUESTS/);
    await expect(register(t, { ip: "203.0.113.2" })).resolves.toBeDefined();
  });

  it("limits refreshes per address", async () => {
    const t = await start(transport, { RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "3" });
    let { refreshToken } = await register(t, { ip: "203.0.113.1" });
    for (let i = 0; i < 3; i++) {
      const res = await refreshWith(t, refreshToken, "203.0.113.1");
      expect(errorOf(res)).toBeUndefined();
      refreshToken = res.body.data!.refresh.refreshToken;
    }
    expect(errorOf(await refreshWith(t, refreshToken, "203.0.113.1"))).toEqual({
      code: "TOO_MANY_REQUESTS",
      reason: "rate_limited",
    });
    // The token was not consumed by the refused attempt: another address may still use it.
    expect(errorOf(await refreshWith(t, refreshToken, "203.0.113.2"))).toBeUndefined();
  });
});

describe.each(TRANSPORTS)("passkey registration options limits (%s)", (transport) => {
  const OPTIONS = "mutation { passkeyRegistrationOptions }";
  const rows = (t: Awaited<ReturnType<typeof start>>) =>
    t.database.prisma.webAuthnChallenge.count({ where: { purpose: "registration" } });
  const refusal = (answer: Awaited<ReturnType<Awaited<ReturnType<typeof start>>["gql"]>>) =>
    answer.body.errors?.[0]?.extensions;

  it("limits one account to 10 a minute, from any address, and writes no row past it", async () => {
    const t = await start(transport);
    const { accessToken } = await register(t, { ip: "198.51.100.1" });
    for (let i = 1; i <= 10; i++) {
      expect(errorOf(await t.gql(OPTIONS, { token: accessToken, ip: `203.0.113.${i}` }))).toBeUndefined();
    }
    expect(await rows(t)).toBe(10);
    for (let i = 11; i <= 30; i++) {
      expect(refusal(await t.gql(OPTIONS, { token: accessToken, ip: `203.0.113.${i}` }))).toEqual({
        code: "TOO_MANY_REQUESTS",
        reason: "rate_limited",
        retryAfterSeconds: expect.any(Number),
      });
    }
    expect(await rows(t)).toBe(10);
  });

  it("limits one address to 30 a minute across accounts", async () => {
    const t = await start(transport);
    const tokens: string[] = [];
    for (let i = 1; i <= 4; i++) tokens.push((await register(t, { ip: `198.51.100.${i}` })).accessToken);
    const codes: unknown[] = [];
    for (const token of tokens)
      for (let i = 0; i < 9; i++)
        codes.push(errorOf(await t.gql(OPTIONS, { token, ip: "203.0.113.7" }))?.code);
    expect(codes.filter((c) => c === undefined)).toHaveLength(30);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS")).toHaveLength(6);
    expect(await rows(t)).toBe(30);
    // Another address is counted apart.
    expect(errorOf(await t.gql(OPTIONS, { token: tokens[3]!, ip: "203.0.113.8" }))).toBeUndefined();
  });
});

describe("client address", () => {
  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const t = await start("inject", { RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "2" });
    const spoofed = (n: number) =>
      t.gql(
        `mutation { login(input: { email: "x${n}@example.com", password: "${WRONG}" }) { accessToken } }`,
        {
          headers: { "x-forwarded-for": `192.0.2.${n}` },
          ip: "203.0.113.1",
        },
      );
    expect(errorOf(await spoofed(1))?.reason).toBe("invalid_credentials");
    expect(errorOf(await spoofed(2))?.reason).toBe("invalid_credentials");
    expect(errorOf(await spoofed(3))?.code).toBe("TOO_MANY_REQUESTS");
  });

  it("counts an IPv6 client per /64, so rotating the interface id buys nothing", async () => {
    const t = await start("inject", { RATE_LIMIT_LOGIN_FAILURES_PER_IP_PER_HOUR: "2" });
    expect(errorOf(await loginAs(t, "a@example.com", WRONG, "2001:db8:1:2::1"))?.reason).toBe(
      "invalid_credentials",
    );
    expect(errorOf(await loginAs(t, "b@example.com", WRONG, "2001:db8:1:2:aaaa::7"))?.reason).toBe(
      "invalid_credentials",
    );
    expect(errorOf(await loginAs(t, "c@example.com", WRONG, "2001:db8:1:2:ffff:1:2:3"))?.code).toBe(
      "TOO_MANY_REQUESTS",
    );
    expect(errorOf(await loginAs(t, "d@example.com", WRONG, "2001:db8:1:3::1"))?.reason).toBe(
      "invalid_credentials",
    );
  });
});
