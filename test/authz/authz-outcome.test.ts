// The permission tests' verdict must not call a broken field "ok": only a field that resolved, or a
// deliberate refusal after authorization let the call through, is "ok".
import { describe, expect, it } from "vitest";
import { authzOutcome } from "../support/as-viewer.js";
import type { GraphQLResponse } from "../support/test-server.js";

function response(...extensions: Record<string, unknown>[]): GraphQLResponse {
  return {
    status: 200,
    headers: {},
    setCookies: {},
    body: { data: null, errors: extensions.map((e) => ({ message: "m", extensions: e })) },
  };
}

describe("authzOutcome", () => {
  it('is "ok" when the fields resolved, or the only errors are deliberate refusals past authorization', () => {
    expect(authzOutcome({ status: 200, headers: {}, setCookies: {}, body: { data: { me: null } } })).toBe(
      "ok",
    );
    expect(authzOutcome(response({ code: "BAD_USER_INPUT", reason: "invalid_scope" }))).toBe("ok");
    expect(authzOutcome(response({ code: "UNAUTHENTICATED", reason: "invalid_credentials" }))).toBe("ok");
  });

  it('is "ERROR", never "ok", for a masked internal error, an outage or an invalid query', () => {
    expect(authzOutcome(response({ code: "INTERNAL_SERVER_ERROR", correlationId: "c" }))).toBe("ERROR");
    expect(authzOutcome(response({ code: "SERVICE_UNAVAILABLE", retryable: true }))).toBe("ERROR");
    expect(authzOutcome(response({ code: "GRAPHQL_VALIDATION_FAILED" }))).toBe("ERROR");
    expect(authzOutcome(response({}))).toBe("ERROR");
    expect(authzOutcome(response({ code: "FORBIDDEN" }, { code: "INTERNAL_SERVER_ERROR" }))).toBe("ERROR");
  });

  it("names the denial otherwise", () => {
    expect(authzOutcome(response({ code: "UNAUTHENTICATED", reason: "authentication_required" }))).toBe(
      "UNAUTHENTICATED",
    );
    expect(authzOutcome(response({ code: "FORBIDDEN", requiredScopes: [["a"]] }))).toBe("FORBIDDEN");
    expect(authzOutcome(response({ code: "NOT_FOUND" }))).toBe("NOT_FOUND");
  });
});
