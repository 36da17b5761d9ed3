// A module's own topic (not notes) through the real subscription server and the real Redis: a
// subscriber on instance B gets what instance A publishes, as the same JSON value an in-process
// subscriber gets. Two subscription servers in this process, each with its own Redis connections
// and bus (as two instances have), sharing one key prefix; the schema is a module's, not Holdfast's.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { makeExecutableSchema } from "@graphql-tools/schema";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RevocationSet } from "../../src/auth/sessions/revocation.js";
import { systemClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config/config.js";
import { createFormatError } from "../../src/errors/format-error.js";
import { InProcessEventBus, RedisEventBus } from "../../src/events/index.js";
import type { GraphQLContext, Services } from "../../src/graphql/context.js";
import { createRedis } from "../../src/server/redis.js";
import { alwaysFresh } from "../../src/server/revocation-freshness.js";
import {
  attachSubscriptions,
  type SubscriptionServer,
} from "../../src/server/subscriptions/subscription-server.js";
import { until } from "../subscriptions/support/live-harness.js";
import { closeOf, connect } from "../subscriptions/support/ws-client.js";
import { clearRedisPrefix, SHARED_REDIS_URL, uniqueRedisPrefix } from "../support/shared-services.js";
import { TEST_ENV } from "../support/test-server.js";

const schema = makeExecutableSchema<GraphQLContext>({
  typeDefs: /* GraphQL */ `
    type Query { ok: Boolean }
    type Shipment { id: ID! at: String! lines: [Line!]! note: String }
    type Line { sku: String! qty: Int! }
    type Subscription { shipments: Shipment! }
  `,
  resolvers: {
    Subscription: {
      shipments: {
        subscribe: (_: unknown, __: unknown, context: GraphQLContext) =>
          context.events.subscribe("shipments"),
        resolve: (event: unknown) => event,
      },
    },
  },
});

const SHIPMENTS = "subscription { shipments { id at lines { sku qty } note } }";
const logger = pino({ level: "silent" });
const prefix = uniqueRedisPrefix();

interface Instance {
  readonly bus: RedisEventBus;
  readonly subscriptions: SubscriptionServer;
  readonly base: string;
  close(): Promise<void>;
}

async function startInstance(): Promise<Instance> {
  const redis = createRedis(SHARED_REDIS_URL, logger, "commands");
  const subscriber = createRedis(SHARED_REDIS_URL, logger, "events");
  const bus = new RedisEventBus(redis, subscriber, logger, `${prefix}events`);
  await bus.start();
  const httpServer: Server = createServer();
  const revocations = new RevocationSet(systemClock);
  const subscriptions = attachSubscriptions({
    httpServer,
    schema,
    config: loadConfig({ ...TEST_ENV }),
    clock: systemClock,
    logger,
    // Anonymous connections only: no token is ever verified here.
    auth: { tokens: {} as never, proofs: {} as never, revocations, dpopRequired: false },
    revocations,
    freshness: alwaysFresh(),
    events: bus,
    services: {} as Services,
    database: {} as never,
    validationRules: [],
    parseOptions: { maxTokens: 1000 },
    formatError: createFormatError(logger, { exposeStack: false }),
    dpopNonce: () => null,
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    bus,
    subscriptions,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await subscriptions.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await bus.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

let a: Instance;
let b: Instance;
beforeAll(async () => {
  [a, b] = await Promise.all([startInstance(), startInstance()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await clearRedisPrefix(prefix);
});

const shipment = {
  id: "s1",
  at: new Date("2030-05-06T07:08:09.010Z"),
  lines: [
    { sku: "A-1", qty: 2 },
    { sku: "B-2", qty: 1 },
  ],
  note: undefined,
  internal: { cost: 12.5 },
};

describe("a module's topic across instances (Redis)", () => {
  it("delivers what A publishes to a subscription on B, JSON round-tripped", async () => {
    const client = await connect(b.base);
    await client.init({});
    client.subscribe("1", SHIPMENTS);
    await until(() => b.subscriptions.streams === 1);
    a.bus.publish("shipments", shipment);
    const event = await client.next((m) => m.id === "1" && m.type === "next");
    expect(event.payload).toEqual({
      data: {
        shipments: {
          id: "s1",
          at: "2030-05-06T07:08:09.010Z",
          lines: [
            { sku: "A-1", qty: 2 },
            { sku: "B-2", qty: 1 },
          ],
          note: null,
        },
      },
    });
    client.close();
  });

  it("gives a subscriber on B the same value as one on A and one on an in-process bus", async () => {
    const onA: unknown[] = [];
    const onB: unknown[] = [];
    const inProcess: unknown[] = [];
    const local = new InProcessEventBus();
    const stops = [
      a.bus.subscribe("shipments", (p) => onA.push(p)),
      b.bus.subscribe("shipments", (p) => onB.push(p)),
      local.subscribe("shipments", (p) => inProcess.push(p)),
    ];
    a.bus.publish("shipments", shipment);
    local.publish("shipments", shipment);
    await until(() => onB.length === 1);
    expect(onB).toEqual(onA);
    expect(onB).toEqual(inProcess);
    expect(onB[0]).toEqual(JSON.parse(JSON.stringify(shipment)));
    for (const stop of stops) stop();
  });

  it("a closed connection's stream ends and leaves no listener on its instance's bus", async () => {
    const client = await connect(b.base);
    await client.init({});
    client.subscribe("1", SHIPMENTS);
    await until(() => b.subscriptions.streams === 1);
    expect(b.bus.topicCount).toBe(1);
    client.close();
    expect((await closeOf(client)).code).toBe(1005);
    await until(() => b.subscriptions.streams === 0);
    expect(b.bus.topicCount).toBe(0);
    expect(() => a.bus.publish("shipments", shipment)).not.toThrow();
  });
});
