import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuthRateLimits, clientKey } from "../../src/auth/rate-limit.js";
import { type Config, loadConfig } from "../../src/config/config.js";
import { TooManyRequestsError } from "../../src/errors/app-error.js";
import { FakeClock } from "../support/fake-clock.js";

// The documented defaults (test/hardening/config.test.ts pins them).
const LIMITS: Config["rateLimits"] = loadConfig({}).rateLimits;

function quietLogger() {
  const warnings: Record<string, unknown>[] = [];
  return { warnings, warn: (fields: Record<string, unknown>) => void warnings.push(fields) };
}

function limits(overrides: Partial<ConstructorParameters<typeof AuthRateLimits>[0]> = {}) {
  return new AuthRateLimits({ config: LIMITS, clock: new FakeClock(), logger: quietLogger(), ...overrides });
}

/** One failed login; returns the retry hint when refused, or null when the attempt was let through. */
async function fail(
  l: AuthRateLimits,
  email = "victim@example.com",
  ip = "203.0.113.1",
): Promise<number | null> {
  try {
    const attempt = await l.beginLogin(email, ip);
    await attempt.failed();
    return null;
  } catch (error) {
    if (error instanceof TooManyRequestsError) return error.retryAfterSeconds;
    throw error;
  }
}

const redisClients: Redis[] = [];
function redis(url = "redis://127.0.0.1:6379"): Redis {
  // As the server's command connection: no offline queue, so a dead Redis fails at once.
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  client.on("error", () => {});
  redisClients.push(client);
  return client;
}
async function ready(client: Redis): Promise<Redis> {
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

afterEach(() => {
  vi.useRealTimers();
  for (const client of redisClients.splice(0)) client.disconnect();
});

describe("per-account back-off (memory)", () => {
  // rate-limiter-flexible reads Date.now, not the injected clock: these tests fake Date alone.
  it("backs off 60, 120, 240, 480, 900 and 900 s after the 5th failure", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2030-01-01T00:00:00Z") });
    const l = limits();
    for (let i = 0; i < 5; i++) expect(await fail(l)).toBeNull();
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      const wait = await fail(l);
      expect(wait).not.toBeNull();
      waits.push(wait!);
      vi.setSystemTime(Date.now() + (wait! - 1) * 1000);
      expect(await fail(l)).not.toBeNull();
      vi.setSystemTime(Date.now() + 1000);
      expect(await fail(l)).toBeNull();
    }
    expect(waits).toEqual([60, 120, 240, 480, 900, 900]);
  });

  it("forgets failures a day after the first one", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2030-01-01T00:00:00Z") });
    const l = limits();
    for (let i = 0; i < 4; i++) await fail(l);
    vi.setSystemTime(Date.now() + 86_400_000 + 1000);
    for (let i = 0; i < 5; i++) expect(await fail(l)).toBeNull();
    expect(await fail(l)).not.toBeNull();
  });

  it("gives back an attempt that judged no password", async () => {
    const l = limits({ config: { ...LIMITS, loginFailuresPerIpPerHour: 3 } });
    for (let i = 0; i < 20; i++) await (await l.beginLogin("victim@example.com", "203.0.113.1")).abandoned();
    for (let i = 0; i < 3; i++) expect(await fail(l)).toBeNull();
    expect(await fail(l, "someone-else@example.com")).not.toBeNull();
  });

  it("settles an attempt once: a late abandon does not undo a failure", async () => {
    const l = limits();
    for (let i = 0; i < 5; i++) {
      const attempt = await l.beginLogin("victim@example.com", "203.0.113.1");
      await attempt.failed();
      await attempt.abandoned();
    }
    expect(await fail(l)).not.toBeNull();
  });

  it("keeps accounts apart", async () => {
    const l = limits();
    for (let i = 0; i < 5; i++) await fail(l, "a@example.com");
    expect(await fail(l, "a@example.com")).not.toBeNull();
    expect(await fail(l, "b@example.com")).toBeNull();
  });
});

describe("Redis-backed limits", () => {
  const prefix = () => `holdfast-test:${randomBytes(6).toString("hex")}`;

  it("holds across instances that share Redis", async () => {
    const keyPrefix = prefix();
    const a = limits({ redis: await ready(redis()), keyPrefix });
    const b = limits({ redis: await ready(redis()), keyPrefix });
    for (let i = 0; i < 3; i++) expect(await fail(a)).toBeNull();
    for (let i = 0; i < 2; i++) expect(await fail(b)).toBeNull();
    expect(await fail(a)).not.toBeNull();
    expect(await fail(b)).not.toBeNull();
  });

  it("checks exactly 5 of 20 concurrent attempts against Redis", async () => {
    const l = limits({ redis: await ready(redis()), keyPrefix: prefix() });
    const results = await Promise.all(Array.from({ length: 20 }, () => fail(l)));
    expect(results.filter((r) => r === null)).toHaveLength(5);
  });

  // Redis keeps its own time: a 1 s back-off, really waited for.
  it("lets one attempt through once the back-off has passed", async () => {
    const l = limits({
      redis: await ready(redis()),
      keyPrefix: prefix(),
      config: { ...LIMITS, loginBackoffSeconds: 1, loginBackoffMaxSeconds: 4 },
    });
    for (let i = 0; i < 5; i++) await fail(l);
    expect(await fail(l)).toBe(1);
    await sleep(1100);
    expect(await fail(l)).toBeNull();
    expect(await fail(l)).toBe(2);
  });

  it("falls back to memory with a warning while Redis is unreachable, and still limits", async () => {
    const logger = quietLogger();
    const clock = new FakeClock();
    const l = limits({ redis: redis("redis://127.0.0.1:1"), keyPrefix: prefix(), logger, clock });
    for (let i = 0; i < 5; i++) expect(await fail(l)).toBeNull();
    expect(await fail(l)).not.toBeNull();
    // One warning, not one per request; another only after a minute of the injected clock.
    expect(logger.warnings).toHaveLength(1);
    clock.advanceSeconds(61);
    await fail(l);
    expect(logger.warnings).toHaveLength(2);
  });

  it("keeps limiting on memory when a working Redis connection goes away", async () => {
    const logger = quietLogger();
    const client = await ready(redis());
    const l = limits({ redis: client, keyPrefix: prefix(), logger });
    for (let i = 0; i < 3; i++) await fail(l);
    expect(logger.warnings).toHaveLength(0);
    client.disconnect();
    // Counts restart in memory: a short, per-instance window, not an open door.
    for (let i = 0; i < 5; i++) expect(await fail(l)).toBeNull();
    expect(await fail(l)).not.toBeNull();
    expect(logger.warnings.length).toBeGreaterThan(0);
  });
});

describe("clientKey", () => {
  it("keys IPv4 by address and IPv6 by /64", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:0DB8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("::ffff:1.2.3.4:5")).toBe("unknown");
    expect(clientKey(null)).toBe("unknown");
    expect(clientKey("not an address")).toBe("unknown");
  });
});
