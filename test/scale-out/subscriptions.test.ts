// Subscriptions across two Holdfast processes sharing PostgreSQL and Redis: a write on one instance
// reaches subscribers on the other (Redis pub/sub), and every way a session ends on one instance
// closes its WebSocket on the other with 4401 (the revocation bus feeds the revocation set).
import { describe, expect, it } from "vitest";
import { closeOf, connect, NOTE_EVENTS, type RawClient } from "../subscriptions/support/ws-client.js";
import { type Instance, login, PASSWORD, REFRESH, registerUser, useCluster } from "./cluster.js";

const cluster = useCluster({
  // Reuse is theft at once: the test needs no real-time wait for the grace interval to pass.
  env: { REFRESH_REUSE_GRACE_SECONDS: "0" },
});
const [a, b] = cluster.startForFile("A", "B");

async function createNote(instance: Instance, token: string, title = "n"): Promise<string> {
  const answer = await instance.gql<{ createNote: { id: string } }>(
    'mutation($t: String!) { createNote(input: { title: $t, body: "b" }) { id } }',
    { token, variables: { t: title } },
  );
  const id = answer.data?.createNote.id;
  if (!id) throw new Error(`createNote failed: ${JSON.stringify(answer.errors)}`);
  return id;
}

const about = (id: string) => (m: { type: string; payload?: unknown }) =>
  m.type === "next" && JSON.stringify(m.payload).includes(id);

/**
 * Subscribes on `on` and returns once an event written on `writer` has arrived there: the process
 * gives no other sign that the stream runs. Writes until one arrives (each wait bounded).
 */
async function liveOn(
  on: Instance,
  token: string,
  writer: Instance,
  writerToken: string,
): Promise<RawClient> {
  const client = await connect(on.origin);
  await client.init({ authorization: `Bearer ${token}` });
  client.subscribe("1", NOTE_EVENTS);
  for (let attempt = 0; attempt < 50; attempt++) {
    const id = await createNote(writer, writerToken, "probe");
    try {
      await client.next(about(id), 1000);
      return client;
    } catch {
      // not subscribed yet: write again
    }
  }
  throw new Error("subscription never became live");
}

describe("across two instances (PostgreSQL + Redis)", () => {
  it("delivers a write on A to a subscriber on B, with the per-field rules applied on B", async () => {
    const alice = await registerUser(a);
    const bob = await registerUser(b);
    const client = await liveOn(b, bob.accessToken, a, alice.accessToken);
    const id = await createNote(a, alice.accessToken, "from A");
    const event = await client.next(about(id));
    expect(event.payload).toMatchObject({
      data: { noteEvents: { kind: "CREATED", noteId: id, note: { title: "from A", body: null } } },
      errors: [{ path: ["noteEvents", "note", "body"], extensions: { code: "FORBIDDEN" } }],
    });
    client.close();
  });

  it("every way a session ends on A closes its connection on B with 4401, and only its connection", async () => {
    const causes: Record<
      string,
      (user: { token: string; other: string; otherId: string; refresh: string }) => Promise<void>
    > = {
      logout: async (u) => void (await a.gql("mutation { logout }", { token: u.token })),
      logoutEverywhere: async (u) => void (await a.gql("mutation { logoutEverywhere }", { token: u.token })),
      revokeSession: async (u) =>
        void (await a.gql(`mutation { revokeSession(id: "${u.otherId}") }`, { token: u.other })),
      changePassword: async (u) =>
        void (await a.gql(
          'mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "another long passphrase") }',
          { token: u.other, variables: { c: PASSWORD } },
        )),
      reuse: async (u) => {
        await a.gql(REFRESH, { variables: { token: u.refresh } });
        const reused = await a.gql(REFRESH, { variables: { token: u.refresh } });
        expect(reused.errors?.[0]?.extensions?.reason).toBe("refresh_token_reused");
      },
    };
    const writer = await registerUser(a);
    for (const [cause, end] of Object.entries(causes)) {
      const victim = await registerUser(a);
      // A second session of the same user: the one that survives (or the actor, where it acts).
      const survivor = await login(a, victim.email);
      const watched = await liveOn(b, victim.accessToken, a, writer.accessToken);
      const bystander = await liveOn(b, survivor.accessToken, a, writer.accessToken);
      await end({
        token: victim.accessToken,
        other: survivor.accessToken,
        otherId: victim.sessionId,
        refresh: victim.refreshToken,
      });
      expect({ cause, ...(await closeOf(watched, 10_000)) }).toEqual({
        cause,
        code: 4401,
        reason: "token_revoked",
      });
      if (cause === "logoutEverywhere") {
        expect((await closeOf(bystander, 10_000)).code).toBe(4401);
      } else {
        const id = await createNote(a, writer.accessToken, `after ${cause}`);
        await bystander.next(about(id));
        expect(bystander.isClosed()).toBe(false);
        bystander.close();
      }
    }
  });

  it("SIGTERM closes an instance's connections with 1001 (going away)", async () => {
    const alice = await registerUser(a);
    const client = await liveOn(b, alice.accessToken, a, alice.accessToken);
    const stopping = b.stop();
    expect((await closeOf(client, 15_000)).code).toBe(1001);
    await stopping;
  });
});
