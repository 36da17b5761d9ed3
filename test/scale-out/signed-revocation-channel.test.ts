// Issue 27, finding 5: Holdfast's own revocation channel is signed. Someone who can write to Redis
// but does not hold REVOCATION_CHANNEL_SECRET cannot lock a session out by publishing a revocation,
// and what they publish is counted; revocations the instances sign still arrive within a second.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { errorOf, registerUser, useCluster, within } from "./cluster.js";

const ME = "{ me { id } }";
const FAR_FUTURE = Date.UTC(2100, 0, 1);

const cluster = useCluster();
const [a, b] = cluster.startForFile("A", "B");

/** What an instance's /readyz says about messages it refused on the revocation channel. */
async function rejectedOn(instance: typeof a): Promise<number | undefined> {
  const { body } = await instance.get("/readyz");
  return (body as { details?: { revocationChannel?: { rejectedMessages?: number } } } | null)?.details
    ?.revocationChannel?.rejectedMessages;
}

describe("the revocation channel between instances is signed", () => {
  it("ignores and counts an unsigned revocation published by hand; a signed one reaches the other instance within 1 s", async () => {
    const victim = await registerUser(a);
    const other = await registerUser(a);
    for (const instance of [a, b])
      expect((await instance.gql<{ me: { id: string } }>(ME, { token: victim.accessToken })).status).toBe(
        200,
      );
    const before = { a: (await rejectedOn(a)) ?? 0, b: (await rejectedOn(b)) ?? 0 };

    // An attacker with write access to Redis, publishing the channel's message format by hand.
    const attacker = new Redis(cluster.env.REDIS_URL!);
    try {
      await attacker.publish(
        `${cluster.prefix}revocations`,
        JSON.stringify([{ s: victim.sessionId, u: FAR_FUTURE }]),
      );
    } finally {
      attacker.disconnect();
    }

    // A real logout on A, broadcast after the forged message: once B refuses that token, B has
    // read the forged message too (one channel, delivered in order).
    const logout = await a.gql<{ logout: boolean }>("mutation { logout }", { token: other.accessToken });
    expect(logout.data?.logout).toBe(true);
    const signedArrived = await within(1000, async () => {
      const answer = await b.gql(ME, { token: other.accessToken });
      return answer.status === 401 && errorOf(answer)?.reason === "token_revoked";
    });
    expect(signedArrived, "a signed revocation reaches B within 1 s").not.toBeNull();

    for (const instance of [a, b]) {
      const answer = await instance.gql<{ me: { id: string } }>(ME, { token: victim.accessToken });
      expect(answer.status, `the forged revocation locks nobody out on ${instance.name}`).toBe(200);
      expect(answer.data?.me?.id).toBe(victim.userId);
    }
    for (const [instance, count] of [
      [a, before.a],
      [b, before.b],
    ] as const) {
      const counted = await within(1000, async () => ((await rejectedOn(instance)) ?? 0) > count);
      expect(counted, `counted on ${instance.name}`).not.toBeNull();
    }
  });
});
