// A table locked by another session (a long migration, a stuck batch job, an operator in psql) while
// clients refresh in a loop: the instance never exits, every request it cannot serve ends within the
// database bound as a retryable 503, nothing is half-written, and every client carries on with the
// token it holds once the lock is gone (none is taken for a thief).
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDpopKey, createDpopProof, type DpopTestKey } from "../support/dpop-proof.js";
import {
  errorOf,
  GRAPHQL_URL,
  type GraphQLAnswer,
  type Instance,
  REFRESH,
  registerUser,
  sleep,
  useCluster,
} from "./cluster.js";
import { familyViolations } from "./family-consistency.js";

// As in the report of the fault: longer than the 5 s bound, long enough for a timed-out statement's
// ROLLBACK to time out as well (which used to end the process).
const LOCK_MS = 15_000;

const cluster = useCluster({
  // The default grace interval: a retry after a 15 s lock is past it, so a rotation that had
  // committed behind a 503 would be taken for theft.
  env: { REFRESH_REUSE_GRACE_SECONDS: "10" },
});
let instance: Instance;

// An instance of its own for each fault, so that one test's outcome cannot decide the other's.
beforeEach(async () => {
  [instance] = await cluster.start("A");
});

afterEach(async () => {
  await instance?.stop();
});

/** Whether the process is still running (it has not exited on its own). */
async function alive(i: Instance): Promise<boolean> {
  return Promise.race([i.exited.then(() => false), sleep(50).then(() => true)]);
}

function describeFailure(answer: GraphQLAnswer<unknown>): string {
  const extensions = answer.errors?.map(
    (e) => `${e.extensions?.code}${e.extensions?.retryable ? "+retryable" : ""}`,
  );
  return `${answer.status} ${extensions?.join(",")}${answer.headers.get("retry-after") ? " Retry-After" : ""}`;
}

interface Client {
  held: string;
  readonly key: DpopTestKey | null;
  readonly sessionId: string;
  readonly accessToken: string;
}

async function refresh(client: Client): Promise<GraphQLAnswer<{ refresh: { refreshToken: string } }>> {
  const dpop = client.key ? await createDpopProof(client.key, { htm: "POST", htu: GRAPHQL_URL }) : undefined;
  return instance.gql(REFRESH, { variables: { token: client.held }, ...(dpop ? { dpop } : {}) });
}

/** Half bearer, half DPoP-bound sessions. */
async function clients(count: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const key = index % 2 === 0 ? await createDpopKey() : null;
      const dpop = key ? await createDpopProof(key, { htm: "POST", htu: GRAPHQL_URL }) : undefined;
      const tokens = await registerUser(instance, dpop);
      return { held: tokens.refreshToken, key, sessionId: tokens.sessionId, accessToken: tokens.accessToken };
    }),
  );
}

/**
 * Each client refreshes in a loop, backing off 50 ms after a failure, while `table` is locked in
 * ACCESS EXCLUSIVE mode by a second connection for LOCK_MS; then runs until every client has
 * rotated once after the lock. Returns what the clients saw.
 */
async function refreshLoopAcrossLock(table: string, all: Client[], duringLock?: () => Promise<void>) {
  const failures = new Map<string, number>();
  const slowFailures: number[] = [];
  let rotations = 0;
  let phase: "before" | "locked" | "after" = "before";
  const rotatedAfter = new Set<number>();
  let deadline = Number.POSITIVE_INFINITY;
  const loop = async (index: number) => {
    const client = all[index]!;
    while (!rotatedAfter.has(index) && Date.now() < deadline) {
      const started = Date.now();
      let answer: Awaited<ReturnType<typeof refresh>>;
      try {
        answer = await refresh(client);
      } catch (error) {
        // No HTTP answer at all: the process is gone.
        const kind = `no answer (${(error as { cause?: { code?: string } }).cause?.code ?? "fetch failed"})`;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        return;
      }
      const next = answer.data?.refresh.refreshToken;
      if (next) {
        client.held = next;
        rotations += 1;
        if (phase === "after") rotatedAfter.add(index);
        continue;
      }
      const kind = describeFailure(answer);
      failures.set(kind, (failures.get(kind) ?? 0) + 1);
      // No request may wait out the lock: the bound (5 s) ends it long before.
      if (Date.now() - started >= LOCK_MS - 3000) slowFailures.push(Date.now() - started);
      await sleep(50);
    }
  };
  const locker = new pg.Client({ connectionString: cluster.db.url });
  locker.on("error", () => {});
  await locker.connect();
  const stream = Promise.all(all.map((_, i) => loop(i)));
  try {
    while (rotations < all.length * 3) await sleep(5);
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE holdfast."${table}" IN ACCESS EXCLUSIVE MODE`);
    phase = "locked";
    const lockedAt = Date.now();
    await duringLock?.();
    await sleep(Math.max(0, LOCK_MS - (Date.now() - lockedAt)));
    await locker.query("COMMIT");
    phase = "after";
    deadline = Date.now() + 30_000;
    await stream;
  } finally {
    await locker.end().catch(() => {});
  }
  return { failures, slowFailures, rotatedAfter };
}

async function revokedSessions(ids: readonly string[]): Promise<number> {
  const { rows } = await cluster.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM holdfast."Session" WHERE "revokedAt" IS NOT NULL AND id = ANY($1)`,
    [ids],
  );
  return Number(rows[0]!.n);
}

/**
 * What a lock must leave behind: the process up, every refused refresh a retryable 503 that did not
 * wait out the lock, every client rotated again after it, no session revoked, no family half-written.
 */
async function expectEveryClientCarriedOn(
  all: readonly Client[],
  { failures, slowFailures, rotatedAfter }: Awaited<ReturnType<typeof refreshLoopAcrossLock>>,
): Promise<void> {
  expect(await alive(instance)).toBe(true);
  expect([...failures.keys()]).toEqual(["503 SERVICE_UNAVAILABLE+retryable Retry-After"]);
  expect(slowFailures).toEqual([]);
  expect(rotatedAfter.size).toBe(all.length);
  expect(await revokedSessions(all.map((c) => c.sessionId))).toBe(0);
  expect(await familyViolations(cluster.db.pool)).toEqual([]);
}

describe("a table locked for 15 s under a refresh loop (PostgreSQL)", () => {
  it('"AuditEvent": the process stays up, each refresh it cannot commit is a retryable 503, and all carry on', async () => {
    const all = await clients(8);
    await expectEveryClientCarriedOn(all, await refreshLoopAcrossLock("AuditEvent", all));
    expect((await instance.get("/readyz")).status).toBe(200);
  }, 240_000);

  it('"User": a 503 refresh committed nothing, so its retry past the grace interval is answered, not taken for theft', async () => {
    const all = await clients(8);
    const reader = all[1]!;
    const readers: GraphQLAnswer<unknown>[] = [];
    const outcome = await refreshLoopAcrossLock("User", all, async () => {
      // A reader with a valid access token while the table is locked: the token still authenticates
      // (no 401 token_revoked, no logout); what needs the user row is a retryable 503.
      readers.push(await instance.gql("{ me { id } }", { token: reader.accessToken }));
      readers.push(await instance.gql("{ me { id displayName } }", { token: reader.accessToken }));
    });
    await expectEveryClientCarriedOn(all, outcome);

    const [tokenOnly, withRow] = readers;
    expect(errorOf(tokenOnly!)).toBeUndefined();
    expect(tokenOnly!.data).toEqual({ me: { id: expect.any(String) } });
    expect(describeFailure(withRow!)).toBe("503 SERVICE_UNAVAILABLE+retryable Retry-After");
  }, 240_000);
});
