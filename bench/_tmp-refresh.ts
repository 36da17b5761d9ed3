import { REFRESH, registerUser, startTestServer } from "../test/support/test-server.js";

const server = await startTestServer({
  RATE_LIMIT_REFRESH_PER_IP_PER_MINUTE: "1000000",
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: "1000000",
});
const tokens: string[] = [];
for (let i = 0; i < 10; i++) tokens.push((await registerUser(server)).refreshToken!);
const rotate = async (token: string) => {
  const res = await server.gql<{ refresh: { refreshToken: string } }>(REFRESH, { variables: { token } });
  const next = res.body.data?.refresh.refreshToken;
  if (!next) throw new Error(JSON.stringify(res.body.errors));
  return next;
};
for (let r = 0; r < 50; r++) for (let i = 0; i < 10; i++) tokens[i] = await rotate(tokens[i]!);
const t0 = process.cpuUsage();
const N = 300;
for (let r = 0; r < N; r++)
  await Promise.all(
    tokens.map(async (t, i) => {
      tokens[i] = await rotate(t);
    }),
  );
const d = process.cpuUsage(t0);
console.log("µs/rotation", (d.user + d.system) / (N * 10));
await server.close();
