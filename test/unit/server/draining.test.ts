import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { installDrainingRefusal } from "../../../src/server/draining.js";

describe("draining refusal", () => {
  const app = Fastify({ logger: false, return503OnClosing: false });
  afterEach(() => app.close());

  it("answers a request that arrives after SIGTERM with a retryable GraphQL 503 and Connection: close", async () => {
    const draining = installDrainingRefusal(app);
    app.post("/graphql", async () => ({ data: { ok: true } }));
    const before = await app.inject({ method: "POST", url: "/graphql", payload: {} });
    expect(before.statusCode).toBe(200);
    expect(before.headers.connection).not.toBe("close");

    draining.start();
    const late = await app.inject({ method: "POST", url: "/graphql", payload: {} });
    // Not Fastify's bare 503: a GraphQL error the SDK knows to retry elsewhere.
    expect(late.statusCode).toBe(503);
    expect(late.headers["retry-after"]).toBeDefined();
    expect(late.headers.connection).toBe("close");
    expect(late.json()).toMatchObject({
      errors: [{ extensions: { code: "SERVICE_UNAVAILABLE", retryable: true, reason: "shutting_down" } }],
    });
  });
});
