// One rendering of an event per distinct permission outcome (issue 25, the storm), over real
// WebSocket connections: what each subscriber sees is what its own rendering would show, whoever
// shares it. A test module counts renderings; the notes module checks owner-only data end to end.
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { composeSchema } from "../../src/graphql/schema.js";
import { defineModule, type HoldfastContext, ownerOr, parent } from "../../src/index.js";
import { notes } from "../../src/modules/notes/index.js";
import { login, registerUser, useListeningServer } from "../support/test-server.js";
import { createNote, eventAbout, subscribeAs } from "./support/live-harness.js";
import { bearer, NOTE_EVENTS, type RawClient } from "./support/ws-client.js";

interface TickEvent {
  readonly n: number;
  readonly ownerId: string;
}

let renderings = 0;

/** Ticks published over HTTP; `ticks` declares its resolver viewer-independent, `seenBy` does not. */
const ticks = defineModule({
  name: "ticks",
  typeDefs: /* GraphQL */ `
    type Tick {
      n: Int!
      secret: String @requiresScopes(scopes: [["notes:write"]])
      ownerNote: String
      seenBy: String!
    }
    extend type Mutation {
      tick(n: Int!, ownerId: ID!): Boolean! @authenticated
    }
    extend type Subscription {
      ticks: Tick! @authenticated
    }
  `,
  resolvers: {
    Mutation: {
      tick: (_p, event: TickEvent, context: HoldfastContext) => {
        context.events.publish("ticks", { n: event.n, ownerId: event.ownerId });
        return true;
      },
    },
    Subscription: {
      ticks: {
        subscribe: (_p, _a, context: HoldfastContext) => context.events.subscribe("ticks"),
        resolve: (event: TickEvent) => {
          renderings += 1;
          return { ...event, secret: `secret ${event.n}`, ownerNote: `owner's ${event.n}` };
        },
        extensions: { holdfast: { viewerIndependent: true } },
      },
    },
    // Reads the viewer where no rule shows it: must never be shared beyond its own viewer.
    Tick: { seenBy: (_t, _a, context: HoldfastContext) => context.viewer?.sessionId ?? "nobody" },
  },
  permissions: {
    Tick: {
      n: parent,
      seenBy: parent,
      ownerNote: ownerOr<TickEvent>({
        label: "owner",
        ownerId: (tick) => tick.ownerId,
        anyOf: [["notes:read:any"]],
      }),
    },
  },
});

const t = useListeningServer({ RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000" }, { modules: [notes, ticks] });

interface Payload {
  data: { ticks: Record<string, unknown> } | null;
  errors?: { path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

let tickNumber = 0;

/** Publishes a tick, waits until every client got it, and answers each one's payload and the renderings. */
async function tick(token: string, ownerId: string, clients: readonly RawClient[]) {
  tickNumber += 1;
  const n = tickNumber;
  const before = renderings;
  const res = await t.gql(`mutation { tick(n: ${n}, ownerId: "${ownerId}") }`, { token });
  expect(res.body.errors).toBeUndefined();
  const payloads = await Promise.all(
    clients.map(
      async (c) =>
        (await c.next((m) => m.type === "next" && JSON.stringify(m.payload).includes(`"n":${n}`)))
          .payload as Payload,
    ),
  );
  return { payloads, renderings: renderings - before };
}

const forbiddenAt = (payload: Payload) => payload.errors?.map((e) => [e.path?.join("."), e.extensions?.code]);

describe("one rendering per distinct permission outcome", () => {
  it("shares a rendering between viewers with the same scopes, never across scopes", async () => {
    const alice = await registerUser(t);
    const carol = await registerUser(t);
    const bob = await registerUser(t);
    const bobNarrow = await login(t, bob.user.email, { scopes: ["notes:read"] });
    const query = "subscription { ticks { n secret } }";
    const clients = [
      await subscribeAs(t, t.base, bearer(alice.accessToken), query),
      await subscribeAs(t, t.base, bearer(alice.accessToken), query),
      await subscribeAs(t, t.base, bearer(carol.accessToken), query),
      await subscribeAs(t, t.base, bearer(bobNarrow.accessToken), query),
    ];
    const { payloads, renderings: count } = await tick(alice.accessToken, alice.user.id, clients);
    for (const full of payloads.slice(0, 3)) {
      expect(full).toEqual({ data: { ticks: { n: tickNumber, secret: `secret ${tickNumber}` } } });
    }
    expect(payloads[3]?.data).toEqual({ ticks: { n: tickNumber, secret: null } });
    expect(forbiddenAt(payloads[3]!)).toEqual([["ticks.secret", "FORBIDDEN"]]);
    // Four subscribers, two permission outcomes (every default scope; notes:read alone).
    expect(count).toBe(2);
    for (const c of clients) c.close();
  });

  it("an owner-dependent field is rendered per user: one owner's data never reaches another", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const query = "subscription { ticks { n ownerNote } }";
    const clients = [
      await subscribeAs(t, t.base, bearer(alice.accessToken), query),
      await subscribeAs(t, t.base, bearer(alice.accessToken), query),
      await subscribeAs(t, t.base, bearer(bob.accessToken), query),
    ];
    const forAlice = await tick(bob.accessToken, alice.user.id, clients);
    expect(forAlice.payloads[0]?.data?.ticks.ownerNote).toBe(`owner's ${tickNumber}`);
    expect(forAlice.payloads[1]?.data?.ticks.ownerNote).toBe(`owner's ${tickNumber}`);
    expect(forAlice.payloads[2]?.data?.ticks.ownerNote).toBeNull();
    expect(forbiddenAt(forAlice.payloads[2]!)).toEqual([["ticks.ownerNote", "FORBIDDEN"]]);
    expect(forAlice.renderings).toBe(2);
    // The next event starts afresh: the same keys, the other owner.
    const forBob = await tick(bob.accessToken, bob.user.id, clients);
    expect(forBob.payloads.map((p) => p.data?.ticks.ownerNote)).toEqual([
      null,
      null,
      `owner's ${tickNumber}`,
    ]);
    for (const c of clients) c.close();
  });

  it("a resolver that reads the viewer, undeclared, gets a rendering per viewer", async () => {
    const alice = await registerUser(t);
    const second = await login(t, alice.user.email);
    const query = "subscription { ticks { n seenBy } }";
    const clients = [
      await subscribeAs(t, t.base, bearer(alice.accessToken), query),
      await subscribeAs(t, t.base, bearer(second.accessToken), query),
    ];
    const { payloads, renderings: count } = await tick(alice.accessToken, alice.user.id, clients);
    expect(payloads.map((p) => p.data?.ticks.seenBy)).toEqual([alice.session.id, second.session.id]);
    expect(count).toBe(2);
    for (const c of clients) c.close();
  });

  it("a renewal that narrows one connection's scopes applies to its next event, not to the others'", async () => {
    const alice = await registerUser(t);
    const query = "subscription { ticks { n secret } }";
    const renewed = await subscribeAs(t, t.base, bearer(alice.accessToken), query);
    const other = await subscribeAs(t, t.base, bearer(alice.accessToken), query);
    const narrowed = await t.gql<{ narrowToken: { accessToken: string } }>(
      'mutation { narrowToken(scopes: ["notes:read"]) { accessToken } }',
      { token: alice.accessToken },
    );
    renewed.send({
      type: "ping",
      payload: { authorization: bearer(narrowed.body.data!.narrowToken.accessToken) },
    });
    await renewed.next((m) => m.type === "pong");
    const { payloads } = await tick(alice.accessToken, alice.user.id, [renewed, other]);
    expect(forbiddenAt(payloads[0]!)).toEqual([["ticks.secret", "FORBIDDEN"]]);
    expect(payloads[1]?.data?.ticks.secret).toBe(`secret ${tickNumber}`);
    renewed.close();
    other.close();
  });
});

describe("notes: two owners, the same query, the same event", () => {
  it("each owner reads their own body, and only their own", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const a = [
      await subscribeAs(t, t.base, bearer(alice.accessToken)),
      await subscribeAs(t, t.base, bearer(alice.accessToken)),
    ];
    const b = [
      await subscribeAs(t, t.base, bearer(bob.accessToken)),
      await subscribeAs(t, t.base, bearer(bob.accessToken)),
    ];
    const body = async (client: RawClient, id: string) =>
      ((await eventAbout(client, id)).payload as { data: { noteEvents: { note: { body: string | null } } } })
        .data.noteEvents.note.body;
    const alicesNote = await createNote(t, alice.accessToken, "same title", "alice's body");
    expect(await Promise.all(a.map((c) => body(c, alicesNote)))).toEqual(["alice's body", "alice's body"]);
    expect(await Promise.all(b.map((c) => body(c, alicesNote)))).toEqual([null, null]);
    const bobsNote = await createNote(t, bob.accessToken, "same title", "bob's body");
    expect(await Promise.all(a.map((c) => body(c, bobsNote)))).toEqual([null, null]);
    expect(await Promise.all(b.map((c) => body(c, bobsNote)))).toEqual(["bob's body", "bob's body"]);
    for (const c of [...a, ...b]) c.close();
  });
});

describe("how widely a document's rendering may be shared", () => {
  const { renderSharing } = composeSchema({ modules: [notes, ticks] });
  const sharing = (query: string) => renderSharing(parse(query));

  it("follows the widest rule and resolver selected", () => {
    expect(sharing("subscription { ticks { n secret } }")).toBe("scopes");
    expect(sharing("subscription { ticks { n ownerNote } }")).toBe("user");
    expect(sharing("subscription { ticks { n seenBy } }")).toBe("viewer");
    expect(sharing("subscription { ticks { ...F } } fragment F on Tick { ownerNote }")).toBe("user");
    expect(sharing("subscription { ticks { ... on Tick { seenBy } } }")).toBe("viewer");
    // noteEvents' resolver does not declare itself viewer-independent: assumed to read the viewer.
    expect(sharing(NOTE_EVENTS)).toBe("viewer");
  });
});
