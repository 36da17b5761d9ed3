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
  // Counted per session (the token's `sid`), so connections of other tests closing meanwhile do
  // not hide this one's stream.
  const sid = authorization ? sidOf(authorization) : null;
  const streams = () =>
    sid === null
      ? t.server.subscriptions.streams
      : t.server.subscriptions
          .connections()
          .filter((c) => c.sessionId === sid)
          .reduce((sum, c) => sum + c.streams, 0);
  const before = streams();
  client.subscribe("1", query);
  await until(() => streams() > before || client.messages.some((m) => m.id === "1"));
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

/** The `sid` claim of the token in an Authorization value (decoded, not verified). */
function sidOf(authorization: string): string | null {
  const payload = authorization.split(" ")[1]?.split(".")[1];
  if (!payload) return null;
  try {
    const sid = (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sid?: unknown }).sid;
    return typeof sid === "string" ? sid : null;
  } catch {
    return null;
  }
}
