import { afterAll, beforeAll, expect, it } from "vitest";
import { registerUser, startTestServer, type TestServer } from "../support/test-server.js";
import { connect, NOTE_EVENTS } from "./support/ws-client.js";

let t: TestServer;
let base: string;
beforeAll(async () => {
  t = await startTestServer();
  base = await t.listen();
});
afterAll(() => t.close());

it("smoke", async () => {
  const alice = await registerUser(t);
  const c = await connect(base);
  console.log("ack", await c.init({ authorization: `Bearer ${alice.accessToken}` }));
  c.subscribe("1", NOTE_EVENTS);
  await new Promise((r) => setTimeout(r, 200));
  const res = await t.gql(`mutation { createNote(input: {title: "t", body: "b"}) { id } }`, { token: alice.accessToken });
  console.log(JSON.stringify(res.body));
  const m = await c.next((m) => m.type === "next");
  console.log(JSON.stringify(m));
  await t.gql("mutation { logout }", { token: alice.accessToken });
  console.log(await c.closed);
  expect(1).toBe(1);
});
