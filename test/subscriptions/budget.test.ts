// Live data with a budget (issue 27, finding 3): one connection with many subscriptions, each
// selecting the note owner's last hundred notes, made one note written send 10 MB. The summed cost
// of a connection's and a user's subscriptions is bounded at subscribe, and so are the bytes one
// event renders into on one connection. Over real WebSocket.
import { describe, expect, it } from "vitest";
import { login, registerUser, useListeningServer } from "../support/test-server.js";
import { createNote, until } from "./support/live-harness.js";
import { bearer, connect, type ProtocolMessage, type RawClient } from "./support/ws-client.js";

const MAX_EVENT_BYTES = 65_536;
const t = useListeningServer({
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  // The budgets at their defaults (2000 per connection, 5000 per user); the byte bound lowered.
  SUBSCRIPTION_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
});

// The attack's document: cost 1 + 1 + 1 + 1 + 100 × (1 + 1 + 3) = 504 per subscription.
const OWNER_NOTES = (first: number) =>
  `subscription { noteEvents { note { owner { notes(first: ${first}) { edges { node { id title body } } } } } } }`;

const extensionsOf = (m: ProtocolMessage) =>
  (m.payload as { extensions: Record<string, unknown> }[])[0]?.extensions;

/** Sends `count` subscribes and waits until each is refused or streaming; returns the refusals. */
async function subscribeMany(client: RawClient, count: number, query: string, sessionId: string) {
  for (let i = 1; i <= count; i++) client.subscribe(String(i), query);
  const streams = () =>
    t.server.subscriptions
      .connections()
      .filter((c) => c.sessionId === sessionId)
      .reduce((sum, c) => sum + c.streams, 0);
  const refused = () => client.messages.filter((m) => m.type === "error");
  await until(() => refused().length + streams() >= count);
  return { refused: refused(), streaming: streams() };
}

describe("subscription budget", () => {
  it("refuses at subscribe what exceeds the connection's budget: 3 of 100 costly subscriptions run", async () => {
    const owner = await registerUser(t);
    const client = await connect(t.base);
    await client.init({ authorization: bearer(owner.accessToken) });
    const { refused, streaming } = await subscribeMany(client, 100, OWNER_NOTES(100), owner.session.id);
    expect(streaming).toBe(3);
    expect(refused).toHaveLength(97);
    for (const m of refused)
      expect(extensionsOf(m)).toMatchObject({
        code: "TOO_MANY_REQUESTS",
        reason: "subscription_budget_exceeded",
        budget: "connection",
      });
    // One note written by someone else reaches the three subscriptions only.
    const other = await registerUser(t);
    const id = await createNote(t, other.accessToken);
    await until(() => client.messages.filter((m) => m.type === "next").length >= 3);
    const nexts = client.messages.filter((m) => m.type === "next");
    expect(nexts).toHaveLength(3);
    expect(JSON.stringify(nexts[0]?.payload)).toContain(id);

    // A subscription that ends frees its share: the next one fits again.
    client.send({ id: "1", type: "complete" });
    await until(() =>
      t.server.subscriptions.connections().some((c) => c.sessionId === owner.session.id && c.streams === 2),
    );
    client.subscribe("again", OWNER_NOTES(100));
    await until(() =>
      t.server.subscriptions.connections().some((c) => c.sessionId === owner.session.id && c.streams === 3),
    );
    expect(client.messages.some((m) => m.id === "again" && m.type === "error")).toBe(false);
    client.close();
  });

  it("refuses what exceeds the user's budget across connections and sessions", async () => {
    const owner = await registerUser(t);
    const clients: RawClient[] = [];
    const running: number[] = [];
    let lastRefusals: ProtocolMessage[] = [];
    // 5000 / 504: nine subscriptions of the user run, whichever sessions and connections hold them.
    for (let n = 0; n < 4; n++) {
      const session = n === 0 ? owner : await login(t, owner.user.email);
      const client = await connect(t.base);
      await client.init({ authorization: bearer(session.accessToken) });
      clients.push(client);
      const { refused, streaming } = await subscribeMany(client, 10, OWNER_NOTES(100), session.session.id);
      running.push(streaming);
      lastRefusals = refused;
    }
    expect(running).toEqual([3, 3, 3, 0]);
    expect(lastRefusals.map(extensionsOf)).toContainEqual(
      expect.objectContaining({ reason: "subscription_budget_exceeded", budget: "user" }),
    );
    for (const client of clients) client.close();
  });

  it("bounds the bytes one event sends on one connection: past it, that subscription gets event_too_large", async () => {
    const owner = await registerUser(t);
    // Notes of 20,000 characters: the event renders the newest five (four of them), about 80 KB.
    for (let i = 0; i < 5; i++) await createNote(t, owner.accessToken, `big ${i}`, "x".repeat(20_000));
    const client = await connect(t.base);
    await client.init({ authorization: bearer(owner.accessToken) });
    client.subscribe("small", "subscription { noteEvents { noteId } }");
    client.subscribe("big", OWNER_NOTES(5));
    await until(() =>
      t.server.subscriptions.connections().some((c) => c.sessionId === owner.session.id && c.streams === 2),
    );
    const id = await createNote(t, owner.accessToken, "trigger", "short");
    const small = await client.next((m) => m.id === "small" && m.type === "next");
    expect(JSON.stringify(small.payload)).toContain(id);
    const big = await client.next((m) => m.id === "big" && m.type === "next");
    expect(big.payload).toMatchObject({
      data: null,
      errors: [
        { extensions: { code: "TOO_MANY_REQUESTS", reason: "event_too_large", maxBytes: MAX_EVENT_BYTES } },
      ],
    });
    // One event dropped for that subscription, with the reason; the connection goes on.
    expect(client.isClosed()).toBe(false);
    client.close();
  });
});
