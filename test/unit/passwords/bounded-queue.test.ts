import { describe, expect, it } from "vitest";
import { BoundedQueue } from "../../../src/auth/bounded-queue.js";
import { ServiceUnavailableError } from "../../../src/errors/app-error.js";

/** A job that runs until the test releases it, recording how many jobs ran at once. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { done, release };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("BoundedQueue (argon2 slots)", () => {
  it("never runs more jobs at once than its concurrency, and starts the waiting ones in arrival order", async () => {
    const queue = new BoundedQueue(2, 10);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const jobs = gates.map((g, i) =>
      queue.run(async () => {
        started.push(i);
        running += 1;
        most = Math.max(most, running);
        await g.done;
        running -= 1;
        return i;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect(queue.waiting).toBe(3);
    gates[1]!.release();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.release();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(queue.running).toBe(0);
  });

  it("refuses one job more than the queue limit with a retryable SERVICE_UNAVAILABLE, without running it", async () => {
    const queue = new BoundedQueue(1, 2);
    const g = gate();
    let ran = 0;
    const job = () =>
      queue.run(async () => {
        ran += 1;
        await g.done;
      });
    const accepted = [job(), job(), job()];
    await settle();
    const refused = await job().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceUnavailableError);
    expect((refused as ServiceUnavailableError).code).toBe("SERVICE_UNAVAILABLE");
    expect((refused as ServiceUnavailableError).reason).toBe("server_busy");
    expect((refused as ServiceUnavailableError).publicExtensions()).toMatchObject({ retryable: true });
    g.release();
    await Promise.all(accepted);
    expect(ran).toBe(3);
  });

  it("frees the slot of a job that failed", async () => {
    const queue = new BoundedQueue(1, 0);
    await expect(queue.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await queue.run(async () => "next")).toBe("next");
  });
});
