// A login storm meets a bounded argon2 queue: hashes beyond the slots wait, and beyond the queue
// limit a login is refused at once with a retryable 503, through the real HTTP server. Argon2 is
// made slow here (32 MiB, 3 passes) so that 12 logins sent together overlap on one slot. Each login is
// for its own account: a burst on one account would also meet the per-account limit (5 attempts in
// flight, test/hardening/brute-force.test.ts), which is not what this file is about.
import { beforeAll, describe, expect, it } from "vitest";
import { LOGIN, registerUser, TEST_PASSWORD, useListeningServer } from "../support/test-server.js";

const t = useListeningServer({
  ARGON2_MEMORY_KIB: "32768",
  ARGON2_TIME_COST: "3",
  ARGON2_MAX_CONCURRENT: "1",
  ARGON2_QUEUE_LIMIT: "0",
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "100",
});
const STORM = 12;
const emails: string[] = [];
let refusedEmail: string | undefined;

beforeAll(async () => {
  for (let i = 0; i < STORM; i++) emails.push((await registerUser(t)).user.email);
}, 60_000);

interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    data?: { login: { accessToken: string; user: { email: string } } } | null;
    errors?: { extensions?: Record<string, unknown> }[];
  };
}

async function login(email: string): Promise<Answer> {
  const response = await fetch(`${t.base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: LOGIN,
      variables: { input: { email, password: TEST_PASSWORD, refreshTokenDelivery: "BODY" } },
    }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: await response.json(),
  };
}

describe("login storm against a bounded argon2 queue", () => {
  it("answers a login beyond the queue limit with a retryable 503 and Retry-After, and every other one normally", async () => {
    const answers = await Promise.all(emails.map(login));
    refusedEmail = emails[answers.findIndex((a) => a.status === 503)];
    const refused = answers.filter((a) => a.status === 503);
    const admitted = answers.filter((a) => a.status === 200);
    expect(refused.length + admitted.length).toBe(answers.length);
    expect(admitted.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const a of admitted)
      expect(a.body.data?.login.accessToken, JSON.stringify(a.body)).toEqual(expect.any(String));
    for (const a of refused) {
      expect(a.retryAfter).not.toBeNull();
      expect(a.body.errors?.[0]?.extensions).toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        reason: "server_busy",
        retryable: true,
      });
    }
  }, 60_000);

  it("does not count a refused login against the account: the retry succeeds", async () => {
    expect(refusedEmail).toBeDefined();
    const retry = await login(refusedEmail!);
    expect(retry.status).toBe(200);
    expect(retry.body.data?.login.user.email).toBe(refusedEmail);
  }, 30_000);
});
