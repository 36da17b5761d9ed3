// The recentAuthentication rule kind (RFC 9470 step-up) on an extended schema, time frozen: the exact
// edge of the window, acr values, scopes before freshness, a token without auth_time, and `unless`.
import { makeExecutableSchema } from "@graphql-tools/schema";
import { type ExecutionResult, graphql } from "graphql";
import { describe, expect, it } from "vitest";
import type { UserAuthentication, Viewer } from "../../src/auth/viewer.js";
import { type FieldRule, recentAuthentication } from "../../src/authz/field-rule.js";
import { permissions } from "../../src/authz/permissions.js";
import { applyPermissions } from "../../src/authz/shield.js";
import { epochSeconds } from "../../src/clock.js";
import { InsufficientUserAuthenticationError } from "../../src/errors/app-error.js";
import { resolvers } from "../../src/graphql/resolvers/index.js";
import { loadTypeDefs } from "../../src/graphql/schema.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import { FakeClock } from "../support/fake-clock.js";
import { testViewer } from "../support/test-viewer.js";

const sdl = `
  extend type Query {
    recent: String
    strong: String
    configured: String
    mine(id: ID!): String
  }`;
const schema = applyPermissions(
  makeExecutableSchema({
    typeDefs: `${loadTypeDefs()}\n${sdl}`,
    resolvers: [
      resolvers as never,
      { Query: { recent: () => "ok", strong: () => "ok", configured: () => "ok", mine: () => "ok" } },
    ],
  }),
  {
    catalogue: defaultScopeCatalogue,
    map: {
      ...permissions,
      Query: {
        ...permissions.Query,
        recent: recentAuthentication({ anyOf: [["account:manage"]], why: "test", maxAgeSeconds: 60 }),
        strong: recentAuthentication({
          anyOf: [["account:manage"]],
          why: "test",
          maxAgeSeconds: 600,
          acrValues: ["phr"],
        }),
        configured: recentAuthentication({ anyOf: [["account:manage"]], why: "test" }),
        mine: recentAuthentication({
          anyOf: [["account:manage"]],
          why: "test",
          maxAgeSeconds: 60,
          unless: { label: "own", test: (args, v) => args.id === v.sessionId },
        }),
      },
    } as unknown as Record<string, Record<string, FieldRule<unknown>>>,
  },
);

const clock = new FakeClock("2030-01-01T00:00:00.000Z");
const now = () => epochSeconds(clock.now());

const viewer = (authentication: UserAuthentication | null, scopes = ["account:manage"]) =>
  testViewer(scopes, authentication);
const byPassword = (ageSeconds: number): UserAuthentication => ({
  authTime: now() - ageSeconds,
  acr: "pwd",
  amr: ["pwd"],
});

async function run(
  source: string,
  v: Viewer | null,
  stepUp: { maxAgeSeconds: number } | null = { maxAgeSeconds: 300 },
) {
  const contextValue = { viewer: v, ...(stepUp ? { stepUp: { ...stepUp, clock } } : {}) };
  return (await graphql({ schema, source, contextValue })) as ExecutionResult;
}
const refusal = (res: ExecutionResult) => res.errors?.[0]?.originalError;

describe("recentAuthentication", () => {
  it("passes at exactly maxAge seconds since auth_time and refuses one second later, naming maxAge", async () => {
    expect((await run("{ recent }", viewer(byPassword(60)))).data).toEqual({ recent: "ok" });
    const late = await run("{ recent }", viewer(byPassword(61)));
    expect(late.data).toEqual({ recent: null });
    expect(refusal(late)).toBeInstanceOf(InsufficientUserAuthenticationError);
    expect((refusal(late) as InsufficientUserAuthenticationError).publicExtensions()).toEqual({
      reason: "insufficient_user_authentication",
      maxAge: 60,
    });
  });

  it("takes the window from STEP_UP_MAX_AGE_SECONDS when the rule names none", async () => {
    expect((await run("{ configured }", viewer(byPassword(120)), { maxAgeSeconds: 120 })).data).toEqual({
      configured: "ok",
    });
    const late = await run("{ configured }", viewer(byPassword(121)), { maxAgeSeconds: 120 });
    expect((refusal(late) as InsufficientUserAuthenticationError).requirement).toEqual({ maxAge: 120 });
  });

  it("refuses a fresh password sign-in where a passkey (acr phr) is required, naming acrValues", async () => {
    const res = await run("{ strong }", viewer(byPassword(1)));
    expect((refusal(res) as InsufficientUserAuthenticationError).publicExtensions()).toEqual({
      reason: "insufficient_user_authentication",
      maxAge: 600,
      acrValues: ["phr"],
    });
    const passkey = { authTime: now() - 1, acr: "phr", amr: ["hwk", "user"] };
    expect((await run("{ strong }", viewer(passkey))).data).toEqual({ strong: "ok" });
  });

  it("checks scopes first: a token without the scope is FORBIDDEN however fresh", async () => {
    const res = await run("{ recent }", viewer(byPassword(0), []));
    expect(refusal(res)).toMatchObject({ code: "FORBIDDEN", requiredScopes: [["account:manage"]] });
  });

  it("refuses a token without auth_time, and fails closed when the request has no step-up policy", async () => {
    expect(refusal(await run("{ recent }", viewer(null)))).toBeInstanceOf(
      InsufficientUserAuthenticationError,
    );
    expect(refusal(await run("{ recent }", viewer(byPassword(0)), null))).toBeInstanceOf(
      InsufficientUserAuthenticationError,
    );
  });

  it("needs no step-up for the calls `unless` exempts, decided per call from the arguments", async () => {
    const stale = viewer(byPassword(3600));
    expect((await run('{ mine(id: "s1") }', stale)).data).toEqual({ mine: "ok" });
    expect(refusal(await run('{ mine(id: "s2") }', stale))).toBeInstanceOf(
      InsufficientUserAuthenticationError,
    );
  });

  it("refuses anonymous callers as authentication_required", async () => {
    expect((refusal(await run("{ recent }", null)) as { reason?: string }).reason).toBe(
      "authentication_required",
    );
  });
});
