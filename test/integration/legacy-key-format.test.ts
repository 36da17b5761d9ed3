// A database written by the release before JWE-at-rest still starts: the server re-encrypts its
// signing key as a JWE at start, keeps signing with it, and publishes it.
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUser, tokenFor } from "../support/as-viewer.js";
import { FakeClock } from "../support/fake-clock.js";
import { insertLegacySigningKey, LEGACY_ROW } from "../support/legacy-signing-key.js";
import { createTestDatabase } from "../support/test-db.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
  const clock = new FakeClock(new Date());
  await insertLegacySigningKey(db, clock.now());
  t = await startTestServer({ KEY_ENCRYPTION_SECRET: LEGACY_ROW.secret }, { clock, database: db });
});
afterAll(async () => {
  await t?.close();
  await db.close();
});

describe("an old-format key database", () => {
  it("starts, publishes the old key, and signs tokens that the API accepts", async () => {
    const jwks = await t.server.app.inject({ method: "GET", url: "/.well-known/jwks.json" });
    expect(jwks.statusCode).toBe(200);
    expect((jwks.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([LEGACY_ROW.kid]);

    const user = await seedUser(t);
    const token = await tokenFor(t, user, ["notes:read"]);
    expect(decodeProtectedHeader(token).kid).toBe(LEGACY_ROW.kid);
    const me = await t.gql<{ me: { id: string } | null }>("{ me { id } }", { token });
    expect(me.body.data?.me?.id).toBe(user.id);
  });

  it("has re-encrypted the key as a JWE", async () => {
    const row = await db.prisma.signingKey.findUniqueOrThrow({ where: { kid: LEGACY_ROW.kid } });
    expect(row.privateKey).not.toBe(LEGACY_ROW.privateKey);
    expect(decodeProtectedHeader(row.privateKey)).toMatchObject({ alg: "A256KW", enc: "A256GCM" });
  });
});
