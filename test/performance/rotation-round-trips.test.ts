// A refresh rotation costs at most 3 SQL round trips and only the Redis command that can change its
// answer (the per-client refresh limit), counted by instrumenting the drivers; and the compare-and-set
// still gives exactly one successor, with one audit row, however many rotations race. Runs on the
// provider of TEST_DATABASE (SQLite by default; `TEST_DATABASE=postgres` for PostgreSQL).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { countDriverCalls, type DriverCounts } from "../support/driver-counters.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import {
  type AuthPayload,
  errorOf,
  REFRESH,
  registerUser,
  startTestServer,
  type TestServer,
} from "../support/test-server.js";

const REFRESH_WITH_USER = `mutation Refresh($token: String) {
  refresh(refreshToken: $token) { accessToken refreshToken session { id } user { id email displayName } }
}`;

let t: TestServer;
let prefix: string;
let counter: ReturnType<typeof countDriverCalls> | undefined;

beforeAll(async () => {
  prefix = uniqueRedisPrefix();
  t = await startTestServer({
    REFRESH_REUSE_GRACE_SECONDS: "10",
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    // No timer may query while a count is open.
    KEY_RELOAD_INTERVAL_SECONDS: "3600",
    REVOCATION_POLL_SECONDS: "300",
  });
});
afterAll(async () => {
  await t?.close();
  if (prefix) await clearRedisPrefix(prefix);
});
afterEach(() => {
  counter?.restore();
  counter = undefined;
});

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; counts: DriverCounts }> {
  counter = countDriverCalls();
  try {
    const result = await work();
    return { result, counts: counter.read() };
  } finally {
    counter.restore();
    counter = undefined;
  }
}

const refresh = (token: string, query = REFRESH) =>
  t.gql<{ refresh: AuthPayload }>(query, { variables: { token } });

describe(`refresh rotation round trips (${process.env.TEST_DATABASE ?? "sqlite"})`, () => {
  it("rotates with at most 3 SQL round trips and one Redis command (the refresh limit)", async () => {
    const start = await registerUser(t);
    const { result, counts } = await counted(() => refresh(start.refreshToken!));
    expect(errorOf(result)).toBeUndefined();
    expect(counts.sqlRoundTrips, counts.log.join("\n")).toBeLessThanOrEqual(3);
    expect(counts.redisCommands, counts.log.join("\n")).toBeLessThanOrEqual(1);
    // The successor is real: it rotates again.
    expect(errorOf(await refresh(result.body.data!.refresh.refreshToken!))).toBeUndefined();
  });

  it("reads the user with the token when the answer selects it: no extra round trip", async () => {
    const start = await registerUser(t);
    const { result, counts } = await counted(() => refresh(start.refreshToken!, REFRESH_WITH_USER));
    expect(result.body.data?.refresh.user).toMatchObject({ id: start.user.id, email: start.user.email });
    expect(counts.sqlRoundTrips, counts.log.join("\n")).toBeLessThanOrEqual(3);
  });

  it("answers a retry within the grace interval, and a theft outside it, in at most 3 round trips each", async () => {
    const start = await registerUser(t);
    const first = (await refresh(start.refreshToken!)).body.data!.refresh;
    t.clock.advanceSeconds(5);
    const retry = await counted(() => refresh(start.refreshToken!));
    expect(retry.result.body.data?.refresh.refreshToken).toBe(first.refreshToken);
    expect(retry.counts.sqlRoundTrips, retry.counts.log.join("\n")).toBeLessThanOrEqual(3);

    t.clock.advanceSeconds(10);
    const theft = await counted(() => refresh(start.refreshToken!));
    expect(errorOf(theft.result)?.reason).toBe("refresh_token_reused");
    expect(theft.counts.sqlRoundTrips, theft.counts.log.join("\n")).toBeLessThanOrEqual(3);
    // The family is over for the tip too.
    expect(errorOf(await refresh(first.refreshToken!))?.code).toBe("UNAUTHENTICATED");
  });

  it("gives exactly one successor and one audit row to 30 concurrent rotations of one token", async () => {
    const start = await registerUser(t);
    const answers = await Promise.all(Array.from({ length: 30 }, () => refresh(start.refreshToken!)));
    expect(answers.map(errorOf).filter(Boolean)).toEqual([]);
    // Within the grace interval the losers get the winner's successor: one token for all.
    expect(new Set(answers.map((a) => a.body.data?.refresh.refreshToken)).size).toBe(1);
    const tokens = await t.database.prisma.refreshToken.findMany({ where: { sessionId: start.session.id } });
    expect(tokens).toHaveLength(2);
    expect(tokens.filter((row) => row.consumedAt === null)).toHaveLength(1);
    const rotated = await t.database.prisma.auditEvent.count({
      where: { sessionId: start.session.id, type: "refresh_token.rotated" },
    });
    expect(rotated).toBe(1);
  });

  it("writes nothing for a retry answered within the grace interval", async () => {
    const start = await registerUser(t);
    const winner = (await refresh(start.refreshToken!)).body.data!.refresh;
    const before = await t.database.prisma.session.findUniqueOrThrow({ where: { id: start.session.id } });
    t.clock.advanceSeconds(3);
    // A retry of the consumed token inside the grace interval: answered, nothing written.
    expect((await refresh(start.refreshToken!)).body.data?.refresh.refreshToken).toBe(winner.refreshToken);
    const after = await t.database.prisma.session.findUniqueOrThrow({ where: { id: start.session.id } });
    expect(after.lastUsedAt).toEqual(before.lastUsedAt);
    expect(await t.database.prisma.refreshToken.count({ where: { sessionId: start.session.id } })).toBe(2);
  });
});
