// Fail closed for live data (issue 25, finding 6): with the revocation feed down (Redis killed, or
// paused for writes as during a FAILOVER), a logout answered on A must keep every later event from
// the session's socket on B — not only close it within the polling bound. Notes are written on B
// itself (its own subscribers still get its events while Redis is away) until the socket closes.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { bearer, closeOf, connect, NOTE_EVENTS, type RawClient } from "../subscriptions/support/ws-client.js";
import { type Instance, registerUser, type Tokens, usePairOnPrivateRedis, within } from "./cluster.js";

// The default: a socket left open until the next timed poll receives events for seconds (old code).
const POLL_SECONDS = 5;
const PAUSE_MS = 15_000;
const CREATE = "mutation Create($input: CreateNoteInput!) { createNote(input: $input) { id } }";

const { redis, a, b } = usePairOnPrivateRedis(POLL_SECONDS);

const feedOf = async (instance: Instance) =>
  ((await instance.get("/readyz")).body as { checks: { revocations?: string } }).checks.revocations;

const createNote = async (instance: Instance, writer: Tokens, title: string) => {
  const answer = await instance.gql<{ createNote: { id: string } }>(CREATE, {
    token: writer.accessToken,
    variables: { input: { title, body: "live" } },
  });
  expect(answer.errors).toBeUndefined();
  return answer.data!.createNote.id;
};

const titlesOf = (socket: RawClient) =>
  socket
    .results("1")
    .map((payload) => (payload as { data?: { noteEvents?: { note?: { title?: string } } } }).data)
    .map((data) => data?.noteEvents?.note?.title);

/** Alice's socket on B, streaming: a note written on B before the fault has reached it. */
async function streamingOnB(alice: Tokens, bob: Tokens): Promise<RawClient> {
  const socket = await connect(b.origin);
  await socket.init({ authorization: bearer(alice.accessToken) });
  socket.subscribe("1", NOTE_EVENTS);
  const streaming = await within(10_000, async () => {
    await createNote(b, bob, "before the fault");
    return titlesOf(socket).includes("before the fault");
  });
  expect(streaming).not.toBeNull();
  return socket;
}

/**
 * Writes notes on B one after another, from before the logout until Alice's socket on B closes,
 * while Alice logs out on A. Returns the notes written after the logout answered that reached the
 * socket anyway, how many were written after it, and how the socket closed.
 */
async function logoutDuringFlood(alice: Tokens, bob: Tokens, socket: RawClient) {
  let answeredAt = Number.POSITIVE_INFINITY;
  const afterAnswer = new Set<string>();
  const flood = (async () => {
    for (let i = 0; !socket.isClosed() && Date.now() - answeredAt < (POLL_SECONDS + 3) * 1000; i++) {
      const title = `flood ${i}`;
      const sentAt = Date.now();
      await createNote(b, bob, title);
      if (sentAt > answeredAt) afterAnswer.add(title);
    }
  })();
  const out = await a.gql<{ logout: boolean }>("mutation { logout }", { token: alice.accessToken });
  expect(out.data?.logout).toBe(true);
  answeredAt = Date.now();
  await flood;
  const closed = await closeOf(socket, 5000);
  const leaked = titlesOf(socket).filter((title) => title !== undefined && afterAnswer.has(title));
  return { closed, leaked, written: afterAnswer.size, closedAfterMs: Date.now() - answeredAt };
}

describe("live data while the revocation feed is down", () => {
  it("sends no event to B's socket of a session logged out on A once logout answered (Redis killed)", async () => {
    const alice = await registerUser(a);
    const bob = await registerUser(b);
    const socket = await streamingOnB(alice, bob);

    await redis.stop();
    try {
      expect(await within(5000, async () => (await feedOf(b)) === "polling", 100)).not.toBeNull();
      const { closed, leaked, written, closedAfterMs } = await logoutDuringFlood(alice, bob, socket);
      expect(leaked).toEqual([]);
      expect(closed).toEqual({ code: 4401, reason: "token_revoked" });
      console.info(
        `Redis killed: socket closed ${closedAfterMs} ms after the logout answer, ${written} notes written`,
      );
    } finally {
      await redis.start();
    }
    expect(await within(10_000, async () => (await feedOf(b)) === "pubsub", 100)).not.toBeNull();
  });

  it("sends no event to B's socket of a session logged out on A once logout answered (Redis paused for writes)", async () => {
    const alice = await registerUser(a);
    const bob = await registerUser(b);
    const socket = await streamingOnB(alice, bob);

    const admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    try {
      await admin.call("CLIENT", "PAUSE", String(PAUSE_MS), "WRITE");
      expect(await within(5000, async () => (await feedOf(b)) === "polling", 100)).not.toBeNull();
      const { closed, leaked, written, closedAfterMs } = await logoutDuringFlood(alice, bob, socket);
      expect(leaked).toEqual([]);
      expect(closed).toEqual({ code: 4401, reason: "token_revoked" });
      console.info(
        `Redis paused: socket closed ${closedAfterMs} ms after the logout answer, ${written} notes written`,
      );
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => {});
      admin.disconnect();
    }
    expect(await within(10_000, async () => (await feedOf(b)) === "pubsub", 100)).not.toBeNull();
  });

  it("still streams to a signed-in session while the feed is down, through database reads", async () => {
    const alice = await registerUser(a);
    const bob = await registerUser(b);
    const socket = await streamingOnB(alice, bob);
    await redis.stop();
    try {
      expect(await within(5000, async () => (await feedOf(b)) === "polling", 100)).not.toBeNull();
      await createNote(b, bob, "while Redis is down");
      await socket.next(
        (m) =>
          (m.payload as { data?: { noteEvents?: { note?: { title?: string } } } })?.data?.noteEvents?.note
            ?.title === "while Redis is down",
        POLL_SECONDS * 1000 + 2000,
      );
      expect(socket.isClosed()).toBe(false);
    } finally {
      await redis.start();
      socket.close();
    }
    expect(await within(10_000, async () => (await feedOf(b)) === "pubsub", 100)).not.toBeNull();
  });
});
