import { expect } from "vitest";
import type { TestServer } from "../../support/test-server.js";
import { connect, NOTE_EVENTS, type ProtocolMessage, type RawClient } from "./ws-client.js";

/** Waits for a condition that the server reaches asynchronously (polls; no fixed sleep). */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A connection initialised with `authorization` and subscribed to noteEvents, once the stream runs. */
export async function subscribeAs(
  t: TestServer,
  base: string,
  authorization: string | null,
  query = NOTE_EVENTS,
): Promise<RawClient> {
  const client = await connect(base);
  await client.init(authorization ? { authorization } : {});
  const before = t.server.subscriptions.streams;
  client.subscribe("1", query);
  await until(() => t.server.subscriptions.streams > before || client.messages.some((m) => m.id === "1"));
  return client;
}

export async function createNote(t: TestServer, token: string, title = "a note", body = "the body") {
  const res = await t.gql<{ createNote: { id: string } }>(
    "mutation($t: String!, $b: String!) { createNote(input: { title: $t, body: $b }) { id } }",
    { token, variables: { t: title, b: body } },
  );
  const id = res.body.data?.createNote.id;
  if (!id) throw new Error(`createNote failed: ${JSON.stringify(res.body.errors)}`);
  return id;
}

/** The `next` message of subscription "1" about note `noteId`. */
export function eventAbout(client: RawClient, noteId: string, kind = "CREATED"): Promise<ProtocolMessage> {
  return client.next((m) => {
    const payload = m.payload as { data?: { noteEvents?: { noteId?: string; kind?: string } } } | undefined;
    return (
      m.type === "next" &&
      payload?.data?.noteEvents?.noteId === noteId &&
      payload.data.noteEvents.kind === kind
    );
  });
}

/** The connection is still open and still gets events: a write reaches it. */
export async function expectStillLive(t: TestServer, client: RawClient, writerToken: string): Promise<void> {
  const id = await createNote(t, writerToken, "still live");
  await eventAbout(client, id);
  expect(client.isClosed()).toBe(false);
}
