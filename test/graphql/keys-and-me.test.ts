import { describe, expect, it } from "vitest";
import { seedUser, tokenFor } from "../support/as-viewer.js";
import { demoCatalogue as defaultScopeCatalogue } from "../support/demo-modules.js";
import { errorOf, registerUser, useTestServer } from "../support/test-server.js";

const t = useTestServer();

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).kid;
}

describe("rotateSigningKey", () => {
  it("publishes a new key that then signs, while tokens of the old key keep verifying", async () => {
    const before = await registerUser(t);
    const admin = await seedUser(t, { role: "admin" });
    const res = await t.gql<{ rotateSigningKey: { kid: string; activatesAt: string } }>(
      "mutation { rotateSigningKey { kid activatesAt } }",
      { token: await tokenFor(t, admin, defaultScopeCatalogue.grantedAtLogin("admin")) },
    );
    const { kid } = res.body.data!.rotateSigningKey;
    const jwks = (await t.server.app.inject({ url: "/.well-known/jwks.json" })).json() as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    expect(jwks.keys.map((k) => k.kid)).toContain(kidOf(before.accessToken));
    // KEY_PUBLISH_DELAY_SECONDS=0 in tests: the new key signs at once.
    const after = await registerUser(t);
    expect(kidOf(after.accessToken)).toBe(kid);
    expect((await t.gql("{ me { id } }", { token: before.accessToken })).status).toBe(200);
    const audit = await t.database.prisma.auditEvent.count({ where: { type: "signing_key.rotated" } });
    expect(audit).toBe(1);
  });

  it("is refused to a user without keys:admin", async () => {
    const user = await registerUser(t);
    const res = await t.gql("mutation { rotateSigningKey { kid } }", { token: user.accessToken });
    expect(errorOf(res)?.code).toBe("FORBIDDEN");
  });
});

describe("me", () => {
  it("answers { me { id } } from the verified token alone, and loads the row only for other fields", async () => {
    const user = await registerUser(t);
    // With the row gone, only a database read could notice.
    await t.database.prisma.user.delete({ where: { id: user.user.id } });
    const id = await t.gql<{ me: { id: string } }>("{ me { id } }", { token: user.accessToken });
    expect(id.body.data?.me.id).toBe(user.user.id);
    const name = await t.gql("{ me { id displayName } }", { token: user.accessToken });
    expect(errorOf(name)?.code).toBe("NOT_FOUND");
  });
});
