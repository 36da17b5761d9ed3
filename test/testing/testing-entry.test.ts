// The README's example for holdfast/testing, run as written, plus the cases it promises.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestingServer, type TestingServer } from "../../src/testing/index.js";
import { DEMO_MODULES } from "../support/demo-modules.js";

let holdfast: TestingServer;
beforeAll(async () => {
  holdfast = await createTestingServer({ modules: DEMO_MODULES });
});
afterAll(() => holdfast.close());

describe("notes resolvers", () => {
  it("lists notes for a viewer with notes:read", async () => {
    const writer = await holdfast.viewer({ scopes: ["notes:read", "notes:write"] });
    await writer.run(`mutation { createNote(input: { title: "Hello", body: "World" }) { id } }`);
    const res = await writer.run<{ notes: { edges: { node: { title: string } }[] } }>(
      "{ notes { edges { node { title } } } }",
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.notes.edges.map((e) => e.node.title)).toContain("Hello");
  });

  it("refuses notes without the scope", async () => {
    const res = await holdfast.run({ scopes: [] }, "{ notes { edges { node { title } } } }");
    expect(res.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("treats an anonymous caller as anonymous", async () => {
    const res = await holdfast.run("anonymous", "{ me { id } }");
    expect(res.data?.me).toBeNull();
  });

  it("refuses a revoked session with 401 token_revoked", async () => {
    const res = await holdfast.run({ revoked: true }, "{ me { id } }");
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "token_revoked" });
  });
});

describe("holdfast/testing", () => {
  it("gives the viewer exactly the scopes asked for, on a real user and session", async () => {
    const viewer = await holdfast.viewer({ scopes: ["notes:read"] });
    const me = await viewer.run<{ me: { id: string } }>("{ me { id } }");
    expect(me.data?.me.id).toBe(viewer.userId);
    const write = await viewer.run(`mutation { createNote(input: { title: "x", body: "y" }) { id } }`);
    expect(write.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("does not accept its handles as tokens anywhere else: a made-up handle is an invalid token", async () => {
    const response = await holdfast.server.app.inject({
      method: "POST",
      url: "/graphql",
      headers: { "content-type": "application/json", authorization: "Bearer holdfast-testing.madeup" },
      payload: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(response.statusCode).toBe(401);
  });
});
