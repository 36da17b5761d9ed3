// Each limit on GraphQL over WebSocket answers with a clear close code or error, and disturbs
// nothing else: the other connections and subscriptions keep streaming.
import { describe, expect, it } from "vitest";
import { login, registerUser, startTestServer, useListeningServer } from "../support/test-server.js";
import { createNote, eventAbout, expectStillLive, subscribeAs, until } from "./support/live-harness.js";
import { bearer, closeOf, connect, NOTE_EVENTS } from "./support/ws-client.js";

const t = useListeningServer({
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  SUBSCRIPTIONS_PER_CONNECTION: "3",
  SUBSCRIPTION_CONNECTIONS_PER_SESSION: "2",
  // Short, but not so short that a busy event loop misses it between open and init.
  SUBSCRIPTION_INIT_TIMEOUT_MS: "1500",
  SUBSCRIPTION_MAX_MESSAGE_BYTES: "4096",
  // Room for the events a healthy connection holds while each waits for a revocation read (on
  // PostgreSQL without Redis, live data fails closed); a slow consumer trips the byte bound.
  SUBSCRIPTION_MAX_QUEUED_EVENTS: "256",
  SUBSCRIPTION_MAX_BUFFERED_BYTES: "65536",
  CORS_ORIGINS: "https://app.example.com",
  GRAPHQL_MAX_DEPTH: "4",
  GRAPHQL_MAX_ALIASES: "2",
});

describe("per connection", () => {
  it("refuses the subscription past the per-connection limit with an error; the others stream on", async () => {
    const alice = await registerUser(t);
    const client = await connect(t.base);
    await client.init({ authorization: bearer(alice.accessToken) });
    for (const id of ["1", "2", "3"]) client.subscribe(id, NOTE_EVENTS);
    await until(() => t.server.subscriptions.streams >= 3);
    client.subscribe("4", NOTE_EVENTS);
    const refused = await client.next((m) => m.id === "4");
    expect(refused.type).toBe("error");
    expect((refused.payload as { extensions: unknown }[])[0]?.extensions).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      reason: "too_many_subscriptions",
    });
    const id = await createNote(t, alice.accessToken);
    for (const sub of ["1", "2", "3"])
      await client.next((m) => m.id === sub && JSON.stringify(m.payload).includes(id));
    client.close();
  });

  it("closes 4408 when no connection_init comes in time", async () => {
    const client = await connect(t.base);
    expect(await closeOf(client)).toEqual({ code: 4408, reason: "Connection initialisation timeout" });
  });

  it("closes 1009 on a message larger than the limit", async () => {
    const alice = await registerUser(t);
    const bystander = await subscribeAs(t, t.base, bearer(alice.accessToken));
    // The token first: the init timeout here is 1.5 s, shorter than a login on a busy machine.
    const token = (await login(t, alice.user.email)).accessToken;
    const client = await connect(t.base);
    await client.init({ authorization: bearer(token) });
    client.send({
      id: "big",
      type: "subscribe",
      payload: { query: `subscription { noteEvents { kind } } #${"x".repeat(5000)}` },
    });
    expect((await closeOf(client)).code).toBe(1009);
    await expectStillLive(t, bystander, alice.accessToken);
    bystander.close();
  });

  it("applies the HTTP depth and alias limits and hides suggestions at subscribe, leaving the connection open", async () => {
    const alice = await registerUser(t);
    const client = await connect(t.base);
    await client.init({ authorization: bearer(alice.accessToken) });
    client.subscribe(
      "deep",
      "subscription { noteEvents { note { owner { notes { edges { node { id } } } } } } }",
    );
    client.subscribe(
      "aliases",
      "subscription { a: noteEvents { kind } b: noteEvents { kind } c: noteEvents { kind } }",
    );
    const reasons = async (id: string) => {
      const m = await client.next((x) => x.id === id);
      expect(m.type).toBe("error");
      return (m.payload as { extensions: { code: string; reason: string } }[]).map((e) => e.extensions);
    };
    expect(await reasons("deep")).toContainEqual({
      code: "GRAPHQL_VALIDATION_FAILED",
      reason: "query_too_deep",
    });
    expect(await reasons("aliases")).toContainEqual({
      code: "GRAPHQL_VALIDATION_FAILED",
      reason: "too_many_aliases",
    });
    client.subscribe("typo", "subscription { noteEvent { kind } }");
    const typo = await client.next((x) => x.id === "typo");
    expect(JSON.stringify(typo.payload)).not.toContain("Did you mean");
    expect(client.isClosed()).toBe(false);
    client.close();
  });

  it("closes a slow consumer (1008 slow_consumer) instead of buffering without end; others are not disturbed", async () => {
    const alice = await registerUser(t);
    const healthy = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const slowSession = await login(t, alice.user.email);
    const slowOpen = () =>
      t.server.subscriptions.connections().some((c) => c.sessionId === slowSession.session.id);
    const slow = await connect(t.base);
    await slow.init({ authorization: bearer(slowSession.accessToken) });
    const before = t.server.subscriptions.streams;
    for (const id of ["1", "2", "3"]) slow.subscribe(id, "subscription { noteEvents { note { body } } }");
    await until(() => t.server.subscriptions.streams >= before + 3);
    // The client stops reading: the kernel buffers fill, then the server's queues.
    slow.socket.pause();
    const body = "x".repeat(19_000);
    let written = 0;
    while (slowOpen() && written < 2000) {
      await createNote(t, alice.accessToken, `bulk ${written}`, body);
      written += 1;
    }
    // The server let go of it while the client was still not reading: memory stays bounded.
    expect(slowOpen()).toBe(false);
    const last = await createNote(t, alice.accessToken, "after");
    await eventAbout(healthy, last);
    slow.socket.resume();
    expect(await closeOf(slow, 30_000)).toEqual({ code: 1008, reason: "slow_consumer" });
    healthy.close();
  }, 90_000);
});

describe("per session and per address", () => {
  it("closes a connection past the per-session limit with 1008 too_many_connections", async () => {
    const alice = await registerUser(t);
    const a = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const b = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const c = await connect(t.base);
    await expect(c.init({ authorization: bearer(alice.accessToken) })).rejects.toMatchObject({
      code: 1008,
      reason: "too_many_connections",
    });
    // Another session of the same user is counted apart.
    const otherToken = (await login(t, alice.user.email)).accessToken;
    const other = await subscribeAs(t, t.base, bearer(otherToken));
    await expectStillLive(t, a, alice.accessToken);
    await expectStillLive(t, b, alice.accessToken);
    for (const client of [a, b, other]) client.close();
  });

  it("answers the upgrade with HTTP 429 past the per-address limit", async () => {
    const limited = await startTestServer({ SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: "2" });
    try {
      const url = await limited.listen();
      const a = await connect(url);
      const b = await connect(url);
      await expect(connect(url)).rejects.toThrow("HTTP 429");
      a.close();
      await closeOf(a);
      await until(() => limited.server.subscriptions.size === 1);
      const c = await connect(url);
      for (const client of [b, c]) client.close();
    } finally {
      await limited.close();
    }
  });
});

describe("the upgrade", () => {
  it("checks a browser's Origin against CORS_ORIGINS and the public URL; clients without one may connect", async () => {
    await expect(connect(t.base, { origin: "https://evil.example" })).rejects.toThrow("HTTP 403");
    for (const origin of ["https://app.example.com", "http://localhost:4000", undefined]) {
      const client = await connect(t.base, origin ? { origin } : {});
      client.close();
    }
  });

  it("refuses a token in the URL and a path other than /graphql", async () => {
    const { WebSocket } = await import("ws");
    const status = (url: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, ["graphql-transport-ws"]);
        socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        socket.once("open", () => reject(new Error("opened")));
        socket.once("error", () => {});
      });
    const ws = t.base.replace(/^http/, "ws");
    expect(await status(`${ws}/graphql?access_token=abc`)).toBe(400);
    expect(await status(`${ws}/elsewhere`)).toBe(404);
  });

  it("does not agree to another subprotocol, so such a client cannot open", async () => {
    // The server answers without a Sec-WebSocket-Protocol, which a client that asked for one must
    // refuse (RFC 6455 §4.1); graphql-ws would close such a socket with 4406 anyway.
    await expect(connect(t.base, { protocols: ["graphql-ws"] })).rejects.toThrow("no subprotocol");
  });
});

describe("shutdown", () => {
  it("closes every connection with 1001 so clients move to another instance", async () => {
    const s = await startTestServer();
    const url = await s.listen();
    const alice = await registerUser(s);
    const client = await subscribeAs(s, url, bearer(alice.accessToken));
    const closing = s.close();
    expect((await closeOf(client)).code).toBe(1001);
    await closing;
  });
});
