// The rule live data asks before every event (issue 25, fail closed): with the feed down, only a
// database read that started after the event arrived vouches for it; without a successful read for
// the staleness bound, nothing is vouched for.
import { describe, expect, it } from "vitest";
import { RevocationFreshness } from "../../src/server/revocation-freshness.js";
import { FakeClock } from "../support/fake-clock.js";

function setup(feed: { healthy: boolean }) {
  const clock = new FakeClock();
  const reads: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const freshness = new RevocationFreshness({
    feedHealthy: () => feed.healthy,
    load: () => new Promise<void>((resolve, reject) => reads.push({ resolve, reject })),
    clock,
    staleAfterMs: 10_000,
    minPollSpacingMs: 0,
    onPollError: () => {},
  });
  const finishRead = async (ok = true) => {
    const read = reads.shift();
    if (!read) throw new Error("no read in flight");
    if (ok) read.resolve();
    else read.reject(new Error("database down"));
    await new Promise((resolve) => setImmediate(resolve));
  };
  const readStarted = () => new Promise((resolve) => setTimeout(resolve, 5));
  return { clock, freshness, reads, finishRead, readStarted };
}

describe("revocation freshness", () => {
  it("vouches for every event while the feed is healthy", () => {
    const { freshness } = setup({ healthy: true });
    expect(freshness.vouches(freshness.mark())).toBe(true);
    expect(freshness.stale()).toBe(false);
  });

  it("holds an event until a read that started after it has succeeded, and asks for that read", async () => {
    const feed = { healthy: true };
    const { freshness, reads, finishRead, readStarted } = setup(feed);
    const before = freshness.poll();
    feed.healthy = false;
    // The event arrives while a read that started before it is in flight: that read cannot vouch.
    const mark = freshness.mark();
    let delivered: boolean | null = null;
    void freshness.whenVouched(mark).then((ok) => {
      delivered = ok;
    });
    await finishRead();
    await before;
    expect(delivered).toBeNull();
    await readStarted();
    expect(reads).toHaveLength(1);
    await finishRead();
    expect(delivered).toBe(true);
  });

  it("refuses held events once no read has succeeded for the staleness bound", async () => {
    const feed = { healthy: true };
    const { clock, freshness, finishRead, readStarted } = setup(feed);
    const first = freshness.poll();
    await finishRead();
    await first;
    feed.healthy = false;
    let delivered: boolean | null = null;
    void freshness.whenVouched(freshness.mark()).then((ok) => {
      delivered = ok;
    });
    await readStarted();
    await finishRead(false);
    expect(delivered).toBeNull();
    expect(freshness.stale()).toBe(false);
    clock.advance(10_001);
    expect(freshness.stale()).toBe(true);
    freshness.settle();
    await Promise.resolve();
    expect(delivered).toBe(false);
  });
});
