// One mailbox is one account, and `refresh` does not tell a token holder what became of a token.
// Over real HTTP. Runs on SQLite, and on PostgreSQL with TEST_DATABASE=postgres.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LOGIN, REFRESH, REGISTER, TEST_PASSWORD, useListeningServer } from "../support/test-server.js";

const t = useListeningServer({
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
});

interface Answer {
  status: number;
  body: {
    data?: Record<
      string,
      { user?: { id: string; email: string }; accessToken?: string; refreshToken?: string } | null
    > | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> {
  const res = await fetch(`${t.base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

const register = (email: string) =>
  post(REGISTER, {
    input: { email, password: TEST_PASSWORD, displayName: "Dot", refreshTokenDelivery: "BODY" },
  });

describe("an address with the DNS root's trailing dot is the same address", () => {
  it("registers x@example.com. as x@example.com, refuses the other form as taken, and logs in with either", async () => {
    const local = `dot-${randomBytes(4).toString("hex")}`;
    const first = await register(`${local}@Example.com.`);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.register?.user?.email).toBe(`${local}@example.com`);

    const again = await register(`${local}@example.com`);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "email_taken",
    });
    const dottedAgain = await register(`${local}@example.com..`);
    expect(dottedAgain.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "email_taken",
    });

    for (const email of [`${local}@example.com`, `${local}@example.com.`]) {
      const login = await post(LOGIN, {
        input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" },
      });
      expect(login.body.errors).toBeUndefined();
      expect(login.body.data?.login?.user?.id).toBe(first.body.data?.register?.user?.id);
    }
  });
});

describe("refresh answers one way for every token it will not rotate", () => {
  it("gives an ended session's token, an expired one and an unknown one the same status, code, reason and message", async () => {
    const ended = await register(`ended-${randomBytes(4).toString("hex")}@example.com`);
    const endedPayload = ended.body.data!.register!;
    await post("mutation { logout }", {}, endedPayload.accessToken);

    const expired = await register(`expired-${randomBytes(4).toString("hex")}@example.com`);
    t.clock.advanceSeconds(t.config.refresh.idleTtlSeconds + 1);

    const answers = await Promise.all(
      [
        endedPayload.refreshToken!,
        expired.body.data!.register!.refreshToken!,
        randomBytes(32).toString("base64url"),
      ].map((token) => post(REFRESH, { token })),
    );
    const [fromEnded, fromExpired, fromUnknown] = answers;
    expect(fromUnknown!.body.errors?.[0]?.extensions).toMatchObject({
      code: "UNAUTHENTICATED",
      reason: "invalid_refresh_token",
    });
    expect(fromEnded).toEqual(fromUnknown);
    expect(fromExpired).toEqual(fromUnknown);
  });
});
