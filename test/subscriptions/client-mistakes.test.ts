// A client's mistake over WebSocket is answered as the client's (BAD_USER_INPUT and a reason),
// logged at info at most, never as an internal error with a stack trace; and a renewal reads its
// payload's keys as connection_init does (as HTTP header names, case-insensitive).
import pino from "pino";
import { describe, expect, it } from "vitest";
import { REFRESH, registerUser, useListeningServer } from "../support/test-server.js";
import { subscribeAs } from "./support/live-harness.js";
import { bearer, connect } from "./support/ws-client.js";

const logLines: { level: number; msg: string }[] = [];
const t = useListeningServer(
  { RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000", RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000" },
  { logger: pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line)) }) },
);

const TWO_OPERATIONS = `
  subscription A { noteEvents { kind } }
  subscription B { noteEvents { noteId } }
`;

describe("a subscribe whose document names no operation to run", () => {
  it.each([
    ["no operationName", undefined],
    ["an unknown operationName", "C"],
  ])(
    "with several operations and %s is BAD_USER_INPUT operation_not_found, logged at info",
    async (_, name) => {
      const alice = await registerUser(t);
      const client = await connect(t.base);
      await client.init({ authorization: bearer(alice.accessToken) });
      const logged = logLines.length;
      client.send({
        id: "1",
        type: "subscribe",
        payload: { query: TWO_OPERATIONS, ...(name ? { operationName: name } : {}) },
      });
      const answer = await client.next((m) => m.id === "1");
      expect(answer.type).toBe("error");
      expect(answer.payload).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", reason: "operation_not_found" } }),
      ]);
      const lines = logLines.slice(logged);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(lines.some((l) => l.level === 30 && /no operation/.test(l.msg))).toBe(true);
      // The connection stays usable: naming the operation works.
      client.send({ id: "2", type: "subscribe", payload: { query: TWO_OPERATIONS, operationName: "B" } });
      await expect.poll(() => t.server.subscriptions.streams).toBeGreaterThan(0);
      expect(client.isClosed()).toBe(false);
      client.close();
    },
  );
});

describe("renewal in a ping", () => {
  it("reads `Authorization` as `authorization`, as connection_init does", async () => {
    const alice = await registerUser(t);
    const client = await subscribeAs(t, t.base, bearer(alice.accessToken));
    const refreshed = await t.gql<{ refresh: { accessToken: string; expiresAt: string } }>(REFRESH, {
      variables: { token: alice.refreshToken },
    });
    const renewed = refreshed.body.data!.refresh;
    client.send({ type: "ping", payload: { Authorization: bearer(renewed.accessToken) } });
    const pong = await client.next((m) => m.type === "pong");
    expect(pong.payload).toEqual({ expiresAt: expect.any(String) });
    client.close();
  });
});

describe("a subscription over HTTP", () => {
  it("is refused whole with HTTP 400, BAD_USER_INPUT websocket_required", async () => {
    const alice = await registerUser(t);
    const answer = await t.gql("subscription { noteEvents { kind } }", { token: alice.accessToken });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "websocket_required",
    });
  });
});
