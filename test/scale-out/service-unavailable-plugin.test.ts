// The HTTP status of a response whose resolvers hit a dead database. Apollo alone answers 200.
import { ApolloServer } from "@apollo/server";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ServiceUnavailableError, UnauthenticatedError } from "../../src/errors/app-error.js";
import { createFormatError } from "../../src/errors/format-error.js";
import { serviceUnavailablePlugin } from "../../src/server/service-unavailable-plugin.js";

const typeDefs = `type Query { down: String  alsoDown: String  fine: String  refused: String }`;
const resolvers = {
  Query: {
    down: () => {
      throw new ServiceUnavailableError();
    },
    alsoDown: () => {
      throw new ServiceUnavailableError();
    },
    fine: () => "ok",
    refused: () => {
      throw new UnauthenticatedError("invalid_refresh_token");
    },
  },
};

async function statusOf(query: string) {
  const server = new ApolloServer({
    typeDefs,
    resolvers,
    plugins: [serviceUnavailablePlugin({ retryAfterSeconds: 2 })],
    formatError: createFormatError(pino({ level: "silent" }), { exposeStack: false }),
  });
  await server.start();
  try {
    const response = await server.executeOperation({ query });
    return { status: response.http.status, retryAfter: response.http.headers.get("retry-after") };
  } finally {
    await server.stop();
  }
}

describe("serviceUnavailablePlugin", () => {
  it("answers 503 with Retry-After when every error is SERVICE_UNAVAILABLE", async () => {
    expect(await statusOf("{ down alsoDown fine }")).toEqual({ status: 503, retryAfter: "2" });
  });

  it("keeps the status when another kind of error is in the response (retrying would not help it)", async () => {
    expect(await statusOf("{ down refused }")).toEqual({ status: undefined, retryAfter: undefined });
  });

  it("leaves responses without errors alone", async () => {
    expect(await statusOf("{ fine }")).toEqual({ status: undefined, retryAfter: undefined });
  });
});
