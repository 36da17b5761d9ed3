import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAfterEach } from "../support/close-after-each.js";
import {
  errorOf,
  type Harness,
  register,
  startHarness,
  TEST_PASSWORD,
  TRANSPORTS,
} from "./support/harness.js";
import { passwordChecks } from "./support/password-checks.js";

vi.mock("@node-rs/argon2", async (original) =>
  (await import("./support/password-checks.js")).countingArgon2(original),
);
const opened = closeAfterEach();

const loginField = (alias: string, email: string, password: string) =>
  `${alias}: login(input: { email: "${email}", password: "${password}" }) { accessToken }`;

describe.each(TRANSPORTS)("GraphQL abuse (%s)", (transport) => {
  let t: Harness;
  let email: string;
  let token: string;
  beforeAll(async () => {
    t = await startHarness(transport);
    const account = await register(t, { ip: "198.51.100.1" });
    email = account.user.email;
    token = account.accessToken;
  });
  afterAll(async () => {
    await t.close();
  });

  async function loginTraces() {
    return {
      checks: passwordChecks(),
      failed: await t.database.prisma.auditEvent.count({ where: { type: "login.failed" } }),
      sessions: await t.database.prisma.session.count(),
    };
  }

  it("refuses 1,000 aliased login fields in one request before any password is checked", async () => {
    const before = await loginTraces();
    // One input variable keeps the body under the 64 KiB cap, so GraphQL itself has to refuse it.
    const fields = Array.from({ length: 1000 }, (_, i) => `a${i}: login(input: $i) { accessToken }`);
    const res = await t.gql(`mutation($i: LoginInput!) { ${fields.join(" ")} }`, {
      variables: { i: { email, password: TEST_PASSWORD } },
    });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_PARSE_FAILED", reason: "too_many_tokens" });
    expect(res.body.data).toBeUndefined();
    expect(await loginTraces()).toEqual(before);
  });

  it("refuses aliased logins by the alias and credential rules too, when they fit under the token limit", async () => {
    const before = await loginTraces();
    const fields = Array.from({ length: 20 }, (_, i) =>
      loginField(`a${i}`, email, i === 7 ? TEST_PASSWORD : "x"),
    );
    const res = await t.gql(`mutation { ${fields.join("\n")} }`);
    expect(res.status).toBe(400);
    const reasons = res.body.errors?.map((e) => e.extensions?.reason);
    expect(reasons).toContain("too_many_aliases");
    expect(reasons).toContain("multiple_credential_fields");
    expect(await loginTraces()).toEqual(before);
  });

  it("refuses an array batch of 50 logins", async () => {
    const before = await loginTraces();
    const batch = Array.from({ length: 50 }, (_, i) => ({
      query: `mutation { ${loginField("login", email, i === 3 ? TEST_PASSWORD : "x")} }`,
    }));
    const res = await t.send({ body: batch });
    expect(res.status).toBe(400);
    expect(errorOf(res)?.code).toBe("BAD_REQUEST");
    expect(await loginTraces()).toEqual(before);
  });

  it("refuses a 10,000-deep query while parsing", async () => {
    const deep = `{${"me{".repeat(10_000)}id${"}".repeat(10_000)}}`;
    const res = await t.gql(deep, { token });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_PARSE_FAILED", reason: "too_many_tokens" });
  });

  it("refuses a query one level deeper than the depth limit", async () => {
    const depth = t.config.graphqlLimits.maxDepth;
    const levels = ["notes", "edges", "node", "owner"];
    let query = "id";
    for (let i = 0; i < depth; i++) query = `${levels[i % levels.length]} { ${query} }`;
    const ok = await t.gql(`{ me { ${query.replace(/^notes \{ /, "").slice(0, -2)} } }`, { token });
    expect(errorOf(ok)?.reason).not.toBe("query_too_deep");
    const res = await t.gql(`{ me { ${query} } }`, { token });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "query_too_deep" });
  });

  it("answers a 1 MB query with a clean 413 JSON error and keeps serving", async () => {
    const res = await t.send({ body: { query: `{ me { id } } # ${"x".repeat(1024 * 1024)}` } });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(errorOf(res)).toEqual({ code: "PAYLOAD_TOO_LARGE", reason: "body_too_large" });
    const after = await t.gql<{ me: { id: string } }>("{ me { id } }", { token });
    expect(after.body.data?.me.id).toBeDefined();
  });

  it("refuses 500 aliases of me, and 16 just as well; 15 pass", async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `m${i}: me { id }`).join(" ")} }`;
    const huge = await t.gql(aliases(500), { token });
    expect(huge.status).toBe(400);
    expect(errorOf(huge)?.reason).toBe("too_many_tokens");
    const over = await t.gql(aliases(t.config.graphqlLimits.maxAliases + 1), { token });
    expect(errorOf(over)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "too_many_aliases" });
    const fine = await t.gql(aliases(t.config.graphqlLimits.maxAliases), { token });
    expect(fine.body.errors).toBeUndefined();
  });

  it("refuses too many directives", async () => {
    const n = t.config.graphqlLimits.maxDirectives + 1;
    const res = await t.gql(`{ me { id ${"@include(if: true) ".repeat(n)} } }`, { token });
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "too_many_directives" });
  });

  it("caps a page at 100 items", async () => {
    const over = await t.gql("{ notes(first: 101) { edges { cursor } } }", { token });
    expect(errorOf(over)).toMatchObject({ code: "BAD_USER_INPUT", reason: "invalid_page_size" });
    const max = await t.gql("{ notes(first: 100) { edges { cursor } } }", { token });
    expect(max.body.errors).toBeUndefined();
  });

  it("keeps introspection off and answers a typo without a suggestion outside development", async () => {
    const schema = await t.gql("{ __schema { types { name } } }");
    expect(errorOf(schema)?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const typo = await t.gql("{ mee { id } }", { token });
    expect(errorOf(typo)?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(typo.text).not.toMatch(/Did you mean|"me"/);
    const enumTypo = await t.gql(
      `mutation($d: RefreshTokenDelivery) { login(input: { email: "a@example.com", password: "x", refreshTokenDelivery: $d }) { accessToken } }`,
      { variables: { d: "COOKI" } },
    );
    expect(errorOf(enumTypo)?.code).toBe("BAD_USER_INPUT");
    expect(enumTypo.text).not.toMatch(/Did you mean|"COOKIE"/);
  });
});

describe("the largest token limit allowed", () => {
  it("still lets the depth rule, not a stack overflow, refuse the deepest query it admits", async () => {
    const t = opened(await startHarness("inject", { env: { GRAPHQL_MAX_TOKENS: "2000" } }));
    // 665 levels is 1,998 tokens with the braces: the deepest document the parser accepts.
    const deepest = await t.gql(`{${"me{".repeat(665)}id${"}".repeat(665)}}`);
    expect(deepest.status).toBe(400);
    expect(deepest.body.errors?.map((e) => e.extensions?.reason)).toContain("query_too_deep");
    // Deeper, the parser descends 1,000 levels before the token limit stops it: still no overflow.
    const deeper = await t.gql(`{${"me{".repeat(10_000)}id${"}".repeat(10_000)}}`);
    expect(errorOf(deeper)).toEqual({ code: "GRAPHQL_PARSE_FAILED", reason: "too_many_tokens" });
    expect(deepest.text + deeper.text).not.toMatch(/call stack/i);
  });
});

describe("cost limit", () => {
  it("refuses a query whose estimated cost is over the limit", async () => {
    const t = opened(await startHarness("inject", { env: { GRAPHQL_MAX_COST: "100" } }));
    const query = `{ me { notes { edges { node { id title body createdAt owner { id displayName notes { edges { node { id title body } } } } } } } } }`;
    const res = await t.gql(query);
    expect(errorOf(res)).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", reason: "query_too_costly" });
  });
});

describe("production", () => {
  it("refuses introspection and answers a typo without naming the field it meant", async () => {
    const t = opened(await startHarness("inject", { env: { NODE_ENV: "production" } }));
    expect(errorOf(await t.gql("{ __schema { queryType { name } } }"))?.code).toBe(
      "GRAPHQL_VALIDATION_FAILED",
    );
    const typo = await t.gql("{ sesions { id } }");
    expect(errorOf(typo)?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(typo.text).not.toMatch(/Did you mean|"sessions"/);
  });
});

describe("development (Sandbox)", () => {
  it("keeps introspection and suggestions, and the introspection query fits every limit", async () => {
    const t = opened(await startHarness("inject", { env: { NODE_ENV: "development" } }));
    const introspection = await t.gql(
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        inputValueDeprecation: true,
      }),
    );
    expect(introspection.body.errors).toBeUndefined();
    const typo = await t.gql("{ mee { id } }");
    expect(typo.text).toMatch(/Did you mean/);
  });
});
