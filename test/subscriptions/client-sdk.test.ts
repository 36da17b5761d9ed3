// The client SDK's subscribe(): token and DPoP proof at init, renewal in band on every refresh
// (no reconnect, no lost events), and on 4401 one refresh and reconnect, else signed out.
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  createHoldfastClient,
  createMemoryRefreshTokenStore,
  type HoldfastClient,
  HoldfastClientError,
  NoteEventsDocument,
  type NoteEventsSubscription,
  type SubscriptionEvent,
  typedDocument,
} from "../../src/client/index.js";
import { startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";
import { createNote, until } from "./support/live-harness.js";

let t: TestServer;
let base: string;

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestServer({ PUBLIC_URL: base, RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000" });
  await t.server.app.listen({ host: "127.0.0.1", port });
});
afterAll(() => t.close());

function newClient(): HoldfastClient {
  return createHoldfastClient({
    baseUrl: base,
    refreshTokenStore: createMemoryRefreshTokenStore(),
    webSocket: WebSocket as never,
    clock: { now: () => t.clock.now().getTime() },
  });
}

let counter = 0;
async function signedIn(): Promise<HoldfastClient> {
  const client = newClient();
  counter += 1;
  await client.register({
    email: `sdk${counter}-${Date.now()}@example.com`,
    password: TEST_PASSWORD,
    displayName: "SDK",
  });
  return client;
}

function collect(client: HoldfastClient) {
  const events: SubscriptionEvent<NoteEventsSubscription>[] = [];
  const failures: HoldfastClientError[] = [];
  const before = t.server.subscriptions.streams;
  const stop = client.subscribe(NoteEventsDocument, {
    next: (event) => events.push(event),
    error: (error) => failures.push(error),
  });
  return { events, failures, stop, running: () => until(() => t.server.subscriptions.streams > before) };
}

const ids = (events: SubscriptionEvent<NoteEventsSubscription>[]) =>
  events.map((e) => e.data.noteEvents.noteId);

describe("subscribe()", () => {
  it("streams events with a DPoP-bound token and renews in band on refresh, without reconnecting", async () => {
    const client = await signedIn();
    expect(client.state().authenticated).toBe(true);
    const live = collect(client);
    await live.running();
    const writer = await registerWriter();
    const first = await createNote(t, writer);
    await until(() => ids(live.events).includes(first));

    // Past the refresh point: the client refreshes, and the connection gets the token by ping.
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds - 30);
    const renewed = await client.refresh();
    // The renewal reaches the connection in band (a ping), before its first token's exp.
    const mine = () => t.server.subscriptions.connections().filter((c) => c.sessionId === renewed.sessionId);
    await until(() => mine()[0]?.expiresAt?.getTime() === renewed.expiresAt?.getTime());
    const connections = t.server.subscriptions.size;
    t.clock.advanceSeconds(60); // past the first token's exp
    const second = await createNote(t, await registerWriter());
    await until(() => ids(live.events).includes(second));
    expect(t.server.subscriptions.size).toBe(connections);
    expect(live.failures).toEqual([]);
    live.stop();
    client.destroy();
  });

  it("reports signed out with the reason when the session is revoked elsewhere", async () => {
    const client = await signedIn();
    const live = collect(client);
    await live.running();
    // Another device ends every session of the user.
    const other = newClient();
    const state = client.state();
    await other.login({ email: await emailOf(client), password: TEST_PASSWORD });
    await other.logoutEverywhere();
    await until(() => live.failures.length > 0);
    expect(live.failures[0]).toMatchObject({ code: "SESSION_LOST", reason: "token_revoked" });
    expect(state.authenticated).toBe(true);
    // No refresh was tried (a revoked session cannot be cured): the next request finds it ended.
    const { MeDocument } = await import("../../src/client/index.js");
    await expect(client.request(MeDocument)).rejects.toMatchObject({ reason: "token_revoked" });
    expect(client.state().authenticated).toBe(false);
    client.destroy();
    other.destroy();
  });

  it("gives a partial event as data with errors: another owner's note arrives, its body null and FORBIDDEN", async () => {
    const client = await signedIn();
    const live = collect(client);
    await live.running();
    const note = await createNote(t, await registerWriter());
    await until(() => ids(live.events).includes(note));
    const event = live.events.find((e) => e.data.noteEvents.noteId === note)!;
    expect(event.data.noteEvents.note).toMatchObject({ id: note, body: null });
    expect(event.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).toEqual([
      ["FORBIDDEN", "noteEvents.note.body"],
    ]);
    expect(live.failures).toEqual([]);
    live.stop();
    client.destroy();
  });

  it("logout() completes open subscriptions cleanly: complete runs, no error", async () => {
    const client = await signedIn();
    const ended = { complete: 0, errors: [] as HoldfastClientError[] };
    const before = t.server.subscriptions.streams;
    client.subscribe(NoteEventsDocument, {
      next: () => {},
      error: (error) => ended.errors.push(error),
      complete: () => (ended.complete += 1),
    });
    await until(() => t.server.subscriptions.streams > before);
    expect(await client.logout()).toBe(true);
    expect(ended).toEqual({ complete: 1, errors: [] });
    // The server's revocation close (4401) comes later and reaches nobody.
    await until(() => t.server.subscriptions.streams === before);
    expect(ended).toEqual({ complete: 1, errors: [] });
  });

  it("destroy() completes open subscriptions cleanly", async () => {
    const client = await signedIn();
    const ended = { complete: 0, errors: [] as HoldfastClientError[] };
    const before = t.server.subscriptions.streams;
    client.subscribe(NoteEventsDocument, {
      next: () => {},
      error: (error) => ended.errors.push(error),
      complete: () => (ended.complete += 1),
    });
    await until(() => t.server.subscriptions.streams > before);
    client.destroy();
    expect(ended).toEqual({ complete: 1, errors: [] });
    await until(() => t.server.subscriptions.streams === before);
  });

  it("on 4401 token_expired refreshes once and reconnects, streaming again", async () => {
    const client = await signedIn();
    const live = collect(client);
    await live.running();
    const expiresAt = client.state().expiresAt!;
    // The app makes no request: the client's renewal timer is due 30 s before exp, but the clock jumps
    // past exp at once (a laptop lid closed), so the server closes with 4401 token_expired first.
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds + 1);
    const sessionId = client.state().sessionId;
    // Closed by the server, then opened again by the client with a refreshed token.
    await until(() =>
      t.server.subscriptions
        .connections()
        .some((c) => c.sessionId === sessionId && c.expiresAt!.getTime() > expiresAt.getTime()),
    );
    const writer = await registerWriter();
    const note = await createNoteWhenLive(writer, live.events);
    expect(ids(live.events)).toContain(note);
    expect(live.failures).toEqual([]);
    expect(client.state().expiresAt!.getTime()).toBeGreaterThan(expiresAt.getTime());
    live.stop();
    client.destroy();
  });

  it("a 4401 token_expired that crosses a renewal in flight reconnects with the new token, without a second refresh", async () => {
    // The renewal ping is sent but not yet read when the server's expiry sweep closes the connection:
    // the close is about the old token, so the fresh one the client already has cures it as is.
    const { client, wire, live, first, renewed } = await refreshedOnWire("hold");
    await until(() => wire.renewalsSeen === 1);
    // Past the first token's exp, before the second's: the server still holds the first and closes.
    t.clock.advanceSeconds(31);
    const reconnected = () =>
      t.server.subscriptions
        .connections()
        .find((c) => c.sessionId === renewed.sessionId && c.expiresAt!.getTime() > first.getTime());
    await until(() => reconnected() !== undefined);
    expect(wire.refreshes).toBe(1);
    expect(reconnected()?.expiresAt?.getTime()).toBe(renewed.expiresAt?.getTime());
    const note = await createNoteWhenLive(await registerWriter(), live.events);
    expect(ids(live.events)).toContain(note);
    expect(live.failures).toEqual([]);
    expect(wire.refreshes).toBe(1);
    expect(renewed.expiresAt!.getTime()).toBeGreaterThan(first.getTime());
    live.stop();
    client.destroy();
  });

  it("a renewal the server refuses is replaced by one refresh, and the stream reconnects", async () => {
    const { client, wire, live, first, renewed } = await refreshedOnWire("corrupt");
    // The refused renewal closes the connection (4401); the client refreshes once more and reconnects.
    await until(() => wire.refreshes === 2);
    const current = () => client.state().expiresAt!.getTime();
    await until(() =>
      t.server.subscriptions
        .connections()
        .some((c) => c.sessionId === renewed.sessionId && c.expiresAt!.getTime() === current()),
    );
    wire.renewals = "pass";
    const note = await createNoteWhenLive(await registerWriter(), live.events);
    expect(ids(live.events)).toContain(note);
    expect(live.failures).toEqual([]);
    expect(wire.renewalsSeen).toBe(1);
    expect(wire.refreshes).toBe(2);
    expect(current()).toBeGreaterThan(first.getTime());
    live.stop();
    client.destroy();
  });
});

/**
 * A signed-in client whose WebSocket the test controls: renewal pings pass, are held back (sent but
 * never read by the server) or are corrupted; and a count of its refresh calls.
 */
async function signedInOnWire() {
  const wire = { renewals: "pass" as "pass" | "hold" | "corrupt", renewalsSeen: 0, refreshes: 0 };
  class WireSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      const message = typeof data === "string" ? JSON.parse(data) : null;
      if (message?.type === "ping" && message.payload?.authorization && wire.renewals !== "pass") {
        wire.renewalsSeen += 1;
        if (wire.renewals === "hold") return;
        // One character of the token's signature changed: the server refuses the renewal.
        const authorization = String(message.payload.authorization);
        const last = authorization.at(-2) === "A" ? "B" : "A";
        message.payload.authorization = `${authorization.slice(0, -2)}${last}${authorization.at(-1)}`;
        data = JSON.stringify(message);
      }
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  const client = createHoldfastClient({
    baseUrl: base,
    refreshTokenStore: createMemoryRefreshTokenStore(),
    webSocket: WireSocket as never,
    clock: { now: () => t.clock.now().getTime() },
    fetch: (input, init) => {
      if (typeof init?.body === "string" && JSON.parse(init.body).operationName === "Refresh")
        wire.refreshes += 1;
      return fetch(input, init);
    },
  });
  counter += 1;
  await client.register({
    email: `sdk${counter}-${Date.now()}@example.com`,
    password: TEST_PASSWORD,
    displayName: "SDK",
  });
  return { client, wire };
}

/** A live subscription on the wire, then a refresh 30 s before expiry whose renewal ping meets `renewals`. */
async function refreshedOnWire(renewals: "hold" | "corrupt") {
  const { client, wire } = await signedInOnWire();
  const live = collect(client);
  await live.running();
  const first = client.state().expiresAt!;
  wire.renewals = renewals;
  t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds - 30);
  const renewed = await client.refresh();
  return { client, wire, live, first, renewed };
}

async function registerWriter(): Promise<string> {
  const { registerUser } = await import("../support/test-server.js");
  return (await registerUser(t)).accessToken;
}

describe("request()", () => {
  it("resolves a partial answer as data with errors (another owner's body null, FORBIDDEN at its path)", async () => {
    const writer = await registerWriter();
    const note = await createNote(t, writer);
    const client = await signedIn();
    const result = await client.request(EveryonesNotes);
    const edge = result.data.notes.edges.find((e) => e.node.id === note);
    expect(edge?.node.body).toBeNull();
    const path = `notes.edges.${result.data.notes.edges.indexOf(edge!)}.node.body`;
    expect(result.errors?.find((e) => e.path?.join(".") === path)?.extensions?.code).toBe("FORBIDDEN");
    client.destroy();
  });

  it("throws when there is no data: a refused mutation", async () => {
    const client = await signedIn();
    const { CreateNoteDocument } = await import("../../src/client/index.js");
    const error = await client
      .request(CreateNoteDocument, { input: { title: "", body: "b" } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(HoldfastClientError);
    expect(error).toMatchObject({ code: "BAD_USER_INPUT" });
    client.destroy();
  });
});

const EveryonesNotes = typedDocument<{
  notes: { edges: { node: { id: string; body: string | null } }[] };
}>("EveryonesNotes", "query EveryonesNotes { notes(first: 100) { edges { node { id body } } } }");

async function emailOf(client: HoldfastClient): Promise<string> {
  const { MeDocument } = await import("../../src/client/index.js");
  const { data } = await client.request(MeDocument);
  return data.me!.email!;
}

/** Writes notes until one reaches the (re)connected subscription. */
async function createNoteWhenLive(
  writer: string,
  events: SubscriptionEvent<NoteEventsSubscription>[],
): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = await createNote(t, writer);
    try {
      await until(() => ids(events).includes(id), 300);
      return id;
    } catch {
      // not reconnected yet
    }
  }
  throw new Error("never reconnected");
}
