import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerUser, startTestServer, TEST_PASSWORD, type TestServer } from "../support/test-server.js";

// The README's Sandbox preflight script, run as Sandbox would run it (an async body with an `explorer`
// object), against a real server: Sandbox itself loads from Apollo's CDN, out of reach here, so this
// checks the part Holdfast owns — the script signs in and its token answers `me`.

let t: TestServer;
let url: string;
beforeAll(async () => {
  t = await startTestServer({ NODE_ENV: "development" });
  url = `${await t.listen()}/graphql`;
});
afterAll(async () => {
  await t?.close();
});

async function readmeScript(): Promise<string> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Apollo Sandbox"));
  const script = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!script) throw new Error("README: no preflight script under ### Apollo Sandbox");
  return script;
}

describe("the documented Sandbox preflight script", () => {
  it("signs in once, stores a Bearer token that answers me, and does not sign in again while it is valid", async () => {
    const user = await registerUser(t);
    const script = (await readmeScript()).replaceAll("http://localhost:4000/graphql", url);
    const environment = new Map<string, string>([
      ["email", user.user.email],
      ["password", TEST_PASSWORD],
    ]);
    let logins = 0;
    const explorer = {
      environment: {
        get: (key: string) => environment.get(key),
        set: (key: string, value: string) => void environment.set(key, value),
      },
      fetch: (input: string, init: RequestInit) => {
        logins += 1;
        return fetch(input, init);
      },
    };
    const run = new Function("explorer", `return (async () => {\n${script}\n})();`) as (
      e: typeof explorer,
    ) => Promise<void>;

    await run(explorer);
    const token = environment.get("token");
    expect(token).toEqual(expect.any(String));
    const me = await t.gql<{ me: { id: string } }>("{ me { id } }", { authorization: `Bearer ${token}` });
    expect(me.body.data?.me.id).toBe(user.user.id);

    await run(explorer);
    expect(logins).toBe(1);
    expect(environment.get("token")).toBe(token);
  });
});
