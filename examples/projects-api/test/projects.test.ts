// Resolver tests on holdfast/testing: each operation runs through Holdfast's whole HTTP stack
// (authentication, revocation, the permission layer) as a viewer described by its scopes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTestingServer, type TestingServer } from "holdfast/testing";
import { projects } from "../src/projects.js";

let t: TestingServer;
before(async () => {
  t = await createTestingServer({ modules: [projects] });
});
after(() => t.close());

const CREATE = `mutation($name: String!) { createProject(name: $name, budget: 100) { id name budget } }`;

describe("projects", () => {
  it("lists the caller's projects with projects:read", async () => {
    const ada = await t.viewer({ scopes: ["projects:read", "projects:write"] });
    await ada.run(CREATE, { name: "Bridge" });
    const { data, errors } = await ada.run<{ projects: { name: string; budget: number }[] }>(
      "{ projects { name budget } }",
    );
    assert.equal(errors, undefined);
    assert.deepEqual(data?.projects, [{ name: "Bridge", budget: 100 }]);
  });

  it("refuses the list without a projects scope: FORBIDDEN naming either alternative", async () => {
    const { errors } = await t.run({ scopes: ["projects:write"] }, "{ projects { id } }");
    assert.equal(errors?.[0]?.extensions?.code, "FORBIDDEN");
    assert.deepEqual(errors?.[0]?.extensions?.requiredScopes, [["projects:read"], ["projects:read:any"]]);
  });

  it("refuses anonymous callers", async () => {
    const { errors } = await t.run("anonymous", "{ projects { id } }");
    assert.equal(errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });

  it("nulls another owner's budget with FORBIDDEN at its path, and the rest resolves", async () => {
    const owner = await t.viewer({ scopes: ["projects:read", "projects:write"] });
    await owner.run(CREATE, { name: "Tunnel" });
    const { data, errors } = await t.run<{ projects: { name: string; budget: number | null }[] }>(
      { scopes: ["projects:read:any"], role: "admin" },
      "{ projects { name budget } }",
    );
    // Support staff (projects:read:any) pass the `support` policy: they see every budget.
    assert.equal(errors, undefined);
    assert.ok(data?.projects.some((p) => p.name === "Tunnel" && p.budget === 100));
    const stranger = await t.viewer({ scopes: ["projects:read"] });
    const own = await stranger.run<{ projects: unknown[] }>("{ projects { name } }");
    assert.deepEqual(own.data?.projects, []);
  });

  it("refuses a revoked session with 401", async () => {
    const { status, errors } = await t.run(
      { scopes: ["projects:read"], revoked: true },
      "{ projects { id } }",
    );
    assert.equal(status, 401);
    assert.equal(errors?.[0]?.extensions?.reason, "token_revoked");
  });
});

describe("deleting a project needs a recent sign-in (@stepUp(maxAge: 300))", () => {
  it("deletes right after sign-in", async () => {
    const viewer = await t.viewer({ scopes: ["projects:read", "projects:write"] });
    const created = await viewer.run<{ createProject: { id: string } }>(CREATE, { name: "Shed" });
    const { data, errors } = await viewer.run(`mutation($id: ID!) { deleteProject(id: $id) }`, {
      id: created.data?.createProject.id,
    });
    assert.equal(errors, undefined);
    assert.deepEqual(data, { deleteProject: true });
  });

  it("refuses a sign-in older than 5 minutes with insufficient_user_authentication", async () => {
    const viewer = await t.viewer({ scopes: ["projects:write"], signedInSecondsAgo: 301 });
    const created = await viewer.run<{ createProject: { id: string } }>(CREATE, { name: "Barn" });
    const { errors } = await viewer.run(`mutation($id: ID!) { deleteProject(id: $id) }`, {
      id: created.data?.createProject.id,
    });
    assert.equal(errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
    assert.equal(errors?.[0]?.extensions?.reason, "insufficient_user_authentication");
    assert.equal(errors?.[0]?.extensions?.maxAge, 300);
  });
});
