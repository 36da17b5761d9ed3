// The ./testing helper runs a subscription as a viewer with given scopes, through the real schema
// and permission map: what a resolver or permission test of live data needs.
import { describe, expect, it } from "vitest";
import { subscribeAsViewer } from "../../src/testing/index.js";
import { DEMO_MODULES } from "../support/demo-modules.js";

const QUERY = "subscription { noteEvents { kind noteId note { title body owner { id } } } }";
const note = { id: "n1", ownerId: "alice", title: "t", body: "secret", createdAt: new Date(0) };

describe("subscribeAsViewer", () => {
  it("shows the owner their body and refuses it to another reader per field", async () => {
    const own = await subscribeAsViewer({
      modules: DEMO_MODULES,
      viewer: { userId: "alice", scopes: ["notes:read"] },
      query: QUERY,
    });
    own.publish("notes", { kind: "CREATED", noteId: "n1", note });
    expect(await own.next()).toEqual({
      data: {
        noteEvents: {
          kind: "CREATED",
          noteId: "n1",
          note: { title: "t", body: "secret", owner: { id: "alice" } },
        },
      },
    });
    const other = await subscribeAsViewer({
      modules: DEMO_MODULES,
      viewer: { userId: "bob", scopes: ["notes:read"] },
      query: QUERY,
    });
    other.publish("notes", { kind: "CREATED", noteId: "n1", note });
    const result = await other.next();
    expect(result.data).toEqual({
      noteEvents: { kind: "CREATED", noteId: "n1", note: { title: "t", body: null, owner: { id: "alice" } } },
    });
    expect(result.errors?.[0]?.path).toEqual(["noteEvents", "note", "body"]);
    // As on the wire: the code (and what the refusal publishes) under extensions.
    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "FORBIDDEN",
      requiredScopes: [["notes:read:any"]],
    });
    await own.close();
    await other.close();
  });

  it("refuses the stream without notes:read", async () => {
    const sub = await subscribeAsViewer({
      modules: DEMO_MODULES,
      viewer: { scopes: ["notes:write"] },
      query: QUERY,
    });
    expect(sub.refused?.errors?.[0]?.message).toBe("Missing scope");
    expect(sub.refused?.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await subscribeAsViewer({ modules: DEMO_MODULES, viewer: null, query: QUERY });
    expect(anonymous.refused?.errors?.[0]?.originalError).toMatchObject({
      reason: "authentication_required",
    });
    expect(anonymous.refused?.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "authentication_required",
    });
  });
});
