// The argon2 worker pool: what a login relies on (a hash verifies, a wrong password or a broken
// hash is just "no"), the scheduling priority that keeps the event loop first in line for a CPU,
// and the refusal that keeps a storm from growing a backlog.
import { afterAll, describe, expect, it } from "vitest";
import { createPasswordHasher, type PasswordHasher } from "../../../src/auth/passwords.js";
import { ServiceUnavailableError } from "../../../src/errors/app-error.js";

const CHEAP = { memoryKib: 1024, timeCost: 1, parallelism: 1 };
const hashers: PasswordHasher[] = [];

async function hasher(maxConcurrent: number, queueLimit: number): Promise<PasswordHasher> {
  const h = await createPasswordHasher({ ...CHEAP, maxConcurrent, queueLimit });
  hashers.push(h);
  return h;
}

afterAll(async () => {
  await Promise.all(hashers.map((h) => h.close()));
});

describe("password hasher (argon2id in worker threads)", () => {
  it("verifies the password it hashed and refuses another, an empty one and a malformed hash", async () => {
    const h = await hasher(1, 8);
    const stored = await h.hash("correct horse battery staple");
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(await h.verify(stored, "correct horse battery staple")).toBe(true);
    expect(await h.verify(stored, "correct horse battery stapler")).toBe(false);
    expect(await h.verify(stored, "")).toBe(false);
    expect(await h.verify("not an argon2 hash", "correct horse battery staple")).toBe(false);
    await expect(h.verifyDummy("anything at all")).resolves.toBeUndefined();
  });

  it("hashes at the lowest scheduling priority, so the event loop wins a contested core", async () => {
    const h = await hasher(2, 8);
    expect(await h.threadPriority()).toBe(19);
  });

  it("refuses with a retryable server_busy once every thread is busy and the queue is full", async () => {
    const h = await hasher(1, 1);
    const attempts = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => h.hash(`password number ${i} of the storm`)),
    );
    const refused = attempts.filter((a) => a.status === "rejected");
    // One runs, one waits, the rest are refused at once.
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(2);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      const error = (r as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ reason: "server_busy" });
    }
    // The refusals left nothing behind: the pool answers again.
    expect(await h.verify(await h.hash("after the storm passes"), "after the storm passes")).toBe(true);
  });

  it("refuses the second hash at once when no queue is allowed", async () => {
    const h = await hasher(1, 0);
    const attempts = await Promise.allSettled([
      h.hash("first password here"),
      h.hash("second password here"),
    ]);
    expect(attempts.map((a) => a.status)).toEqual(["fulfilled", "rejected"]);
    // Admitted again as soon as the slot is free, not when the thread next reports in.
    expect(await h.hash("third password here")).toMatch(/^\$argon2id\$/);
  });
});
