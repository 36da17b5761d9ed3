import { ApolloServer } from "@apollo/server";
import fastifyApollo from "@as-integrations/fastify";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { verify as argon2Verify } from "@node-rs/argon2";
import { errors as jose } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { Prisma } from "../../src/db/generated/sqlite/index.js";
import { BadUserInputError } from "../../src/errors/app-error.js";
import { createFormatError } from "../../src/errors/format-error.js";
import type { HoldfastServer } from "../../src/server/create-server.js";
import {
  errorOf,
  type Harness,
  register,
  startHarness,
  TRANSPORTS,
  type Transport,
} from "./support/harness.js";

// Recognisable details that must reach the log and never the client.
const SECRET = "db-password-hunter2";
const argon2Message = await argon2Verify("not-a-phc-hash", "x").then(
  () => "argon2 accepted a malformed hash",
  (error: Error) => error.message,
);

/** Test-only resolvers, mounted beside the real endpoint with the real formatError: never in the product schema. */
const failing = makeExecutableSchema({
  typeDefs: `type Query { plain: String prisma: String jose: String argon2: String typed: String }`,
  resolvers: {
    Query: {
      plain: () => {
        throw new Error(`connect ECONNREFUSED 10.0.0.5:5432 (${SECRET})`);
      },
      prisma: () => {
        throw new Prisma.PrismaClientKnownRequestError(
          `Unique constraint failed on the fields: (\`email\`) ${SECRET}`,
          {
            code: "P2002",
            clientVersion: "6.19.3",
          },
        );
      },
      jose: () => {
        throw new jose.JWSSignatureVerificationFailed(`signature verification failed ${SECRET}`);
      },
      argon2: async () => {
        await argon2Verify("not-a-phc-hash", "x");
        return "unreachable";
      },
      typed: () => {
        throw new BadUserInputError("invalid_thing", "That thing is not valid", "thing");
      },
    },
  },
});

async function mountFailingEndpoint(server: HoldfastServer, exposeStack: boolean): Promise<void> {
  const apollo = new ApolloServer({
    schema: failing,
    formatError: createFormatError(server.logger, { exposeStack }),
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  await server.app.register(fastifyApollo(apollo), { path: "/test-only/graphql" });
  server.app.get("/test-only/crash", async () => {
    throw new Error(`route crashed (${SECRET})`);
  });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(transport: Transport, env: Record<string, string> = {}): Promise<Harness> {
  h = await startHarness(transport, {
    env,
    beforeReady: (server) => mountFailingEndpoint(server, env.NODE_ENV === "development"),
  });
  return h;
}

function internalErrorLines(t: Harness) {
  return t.logs.filter((line) => line.msg === "internal error");
}

describe.each(TRANSPORTS)("error masking (%s)", (transport) => {
  it.each(["plain", "prisma", "jose", "argon2"])(
    "masks a %s error as INTERNAL_SERVER_ERROR with a correlation id that is in the log",
    async (field) => {
      const t = await start(transport);
      const res = await t.send({ path: "/test-only/graphql", body: { query: `{ ${field} }` } });
      const error = res.body.errors?.[0];
      expect(error?.message).toBe("Internal server error");
      expect(error?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      const correlationId = error?.extensions?.correlationId;
      expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
      for (const leak of [
        SECRET,
        argon2Message,
        "ECONNREFUSED",
        "P2002",
        "signature",
        "stacktrace",
        "    at ",
      ]) {
        expect(res.text).not.toContain(leak);
      }
      const logged = internalErrorLines(t).find((line) => line.correlationId === correlationId);
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged)).toContain(field === "argon2" ? argon2Message : SECRET);
    },
  );

  it("lets a typed application error through with its code and reason", async () => {
    const t = await start(transport);
    const res = await t.send({ path: "/test-only/graphql", body: { query: "{ typed }" } });
    expect(errorOf(res)).toEqual({ code: "BAD_USER_INPUT", reason: "invalid_thing" });
    expect(internalErrorLines(t)).toHaveLength(0);
  });

  it("masks a crash outside GraphQL the same way", async () => {
    const t = await start(transport);
    const res = await t.send({ method: "GET", path: "/test-only/crash" });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(SECRET);
    const correlationId = res.body.errors?.[0]?.extensions?.correlationId;
    expect(errorOf(res)?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(JSON.stringify(internalErrorLines(t).find((l) => l.correlationId === correlationId))).toContain(
      SECRET,
    );
  });

  it("masks a real database failure in a product resolver", async () => {
    const t = await start(transport);
    const { accessToken } = await register(t);
    await t.database.prisma.$executeRawUnsafe("DROP TABLE notes");
    const res = await t.gql("{ notes(first: 5) { edges { cursor } } }", { token: accessToken });
    expect(errorOf(res)?.code).toBe("INTERNAL_SERVER_ERROR");
    const correlationId = res.body.errors?.[0]?.extensions?.correlationId;
    const logged = internalErrorLines(t).find((l) => l.correlationId === correlationId);
    const detail = (logged?.err as { message?: string } | undefined)?.message ?? "";
    expect(detail).toMatch(/notes/);
    expect(res.text).not.toContain(detail);
    expect(res.text).not.toMatch(/no such table|Prisma|SQLITE/i);
  });

  it("never explains a refused token with the JWT library's words", async () => {
    const t = await start(transport);
    const { accessToken } = await register(t);
    const [header, payload, signature] = accessToken.split(".");
    const forged = `${header}.${payload}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
    const res = await t.gql("{ me { id } }", { token: forged });
    expect(res.status).toBe(401);
    expect(errorOf(res)?.code).toBe("UNAUTHENTICATED");
    expect(res.text).not.toMatch(/JWS|signature verification|jose/i);
  });
});

describe("stack traces", () => {
  it("appear only in development", async () => {
    const dev = await start("inject", { NODE_ENV: "development" });
    const res = await dev.send({ path: "/test-only/graphql", body: { query: "{ plain }" } });
    expect(res.body.errors?.[0]?.extensions?.stacktrace).toBeDefined();
  });
});
