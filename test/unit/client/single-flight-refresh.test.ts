import { describe, expect, it } from "vitest";
import { MeDocument, type RefreshLock } from "../../../src/client/index.js";
import { ada, clientHarness } from "./support/client-harness.js";

describe("single-flight refresh", () => {
  it("20 concurrent requests around expiry cause exactly one refresh, and all use its token", async () => {
    const { client, server, time } = clientHarness();
    await client.login(ada);
    time.advance(250_000);
    const results = await time.run(Promise.all(Array.from({ length: 20 }, () => client.request(MeDocument))));
    expect(results.every((r) => r.data.me?.id === "u_1")).toBe(true);
    expect(server.count("Refresh")).toBe(1);
    const meCalls = server.calls.filter((c) => c.operationName === "Me");
    expect(meCalls).toHaveLength(20);
    expect(new Set(meCalls.map((c) => c.authorization))).toEqual(
      new Set([`DPoP ${server.issuedAccessTokens[1]}`]),
    );
  });

  it("is single-flight inside the client even with a lock that does not serialise", async () => {
    const passThrough: RefreshLock = { run: (task) => task(), connect: () => ({ publish() {}, close() {} }) };
    const { client, server, time } = clientHarness({ lock: passThrough });
    await client.login(ada);
    time.advance(250_000);
    await time.run(Promise.all(Array.from({ length: 20 }, () => client.request(MeDocument))));
    expect(server.count("Refresh")).toBe(1);
  });

  it("20 concurrent requests refused with token_expired cause exactly one refresh", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    server.script(
      "Me",
      ...Array.from(
        { length: 20 },
        () => ({ kind: "error", status: 401, code: "UNAUTHENTICATED", reason: "token_expired" }) as const,
      ),
    );
    await Promise.all(Array.from({ length: 20 }, () => client.request(MeDocument)));
    expect(server.count("Refresh")).toBe(1);
    expect(server.count("Me")).toBe(40);
  });

  it("concurrent forced refreshes share one call", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    await Promise.all(Array.from({ length: 5 }, () => client.refresh()));
    expect(server.count("Refresh")).toBe(1);
  });

  it("a refresh after the first completes is a new call", async () => {
    const { client, server } = clientHarness();
    await client.login(ada);
    await client.refresh();
    await client.refresh();
    expect(server.count("Refresh")).toBe(2);
  });
});
