// `{ me { id } }` with a Bearer token next to the same query with DPoP-bound tokens (a fresh proof per
// request), through the whole server in process (Fastify inject: context, authentication, Apollo,
// one Prisma read), side by side and interleaved round by round; the result is read as a ratio.
// Proofs are signed before the clock starts: making them is the client's cost, not the server's.
// Run: npx tsx bench/dpop-me.ts [requestsPerRound] [rounds]

import pino from "pino";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config/config.js";
import { createServer } from "../src/server/create-server.js";
import { DEMO_MODULES } from "../test/support/demo-modules.js";
import { createDpopKey, createDpopProof, type DpopTestAlg } from "../test/support/dpop-proof.js";
import { createTestDatabase } from "../test/support/test-db.js";

const perRound = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 5);
const WARMUP = 2000;
const ME = JSON.stringify({ query: "{ me { id } }" });
const PASSWORD = "correct horse battery staple";
const LOGIN = `mutation($email: String!) {
  login(input: { email: $email, password: "${PASSWORD}", refreshTokenDelivery: BODY }) { accessToken tokenType user { id } }
}`;

const database = await createTestDatabase();
const config = loadConfig({
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  KEY_PUBLISH_DELAY_SECONDS: "0",
  PUBLIC_URL: "http://localhost:4000",
  DATABASE_URL: database.url,
});
const endpoint = `${config.server.publicUrl}${config.server.graphqlPath}`;
const server = await createServer({
  config,
  clock: systemClock,
  database,
  logger: pino({ level: "silent" }),
  modules: DEMO_MODULES,
});
const { app } = server;

async function post(body: string, headers: Record<string, string>) {
  return app.inject({
    method: "POST",
    url: "/graphql",
    headers: { "content-type": "application/json", ...headers },
    payload: body,
  });
}

async function login(email: string, dpop?: string) {
  const res = await post(JSON.stringify({ query: LOGIN, variables: { email } }), dpop ? { dpop } : {});
  const payload = res.json().data?.login;
  if (!payload) throw new Error(`login failed: ${res.body}`);
  return payload as { accessToken: string; tokenType: string; user: { id: string } };
}

const email = "bench-dpop@example.com";
const registered = await post(
  JSON.stringify({
    query: `mutation { register(input: { email: "${email}", password: "${PASSWORD}", displayName: "Bench" }) { user { id } } }`,
  }),
  {},
);
if (registered.statusCode !== 200) throw new Error(`register failed: ${registered.body}`);

interface Variant {
  name: string;
  /** Headers for `count` requests, built before timing. */
  prepare(count: number): Promise<Record<string, string>[]>;
  userId: string;
}

const bearer = await login(email);
if (bearer.tokenType !== "Bearer") throw new Error("expected an unbound token");
const variants: Variant[] = [
  {
    name: "Bearer (unbound token)",
    userId: bearer.user.id,
    prepare: async (count) =>
      Array.from({ length: count }, () => ({ authorization: `Bearer ${bearer.accessToken}` })),
  },
];
for (const alg of ["EdDSA", "ES256"] as DpopTestAlg[]) {
  const key = await createDpopKey(alg);
  const bound = await login(
    email,
    await createDpopProof(key, { htm: "POST", htu: endpoint, iat: systemClock.now() }),
  );
  if (bound.tokenType !== "DPoP") throw new Error("expected a bound token");
  variants.push({
    name: `DPoP ${alg} (bound token + fresh proof)`,
    userId: bound.user.id,
    prepare: async (count) => {
      const list: Record<string, string>[] = [];
      for (let i = 0; i < count; i++) {
        const proof = await createDpopProof(key, {
          htm: "POST",
          htu: endpoint,
          iat: systemClock.now(),
          accessToken: bound.accessToken,
        });
        list.push({ authorization: `DPoP ${bound.accessToken}`, dpop: proof });
      }
      return list;
    },
  });
}

/**
 * One request, timed alone (one in flight): wall µs, and this process's CPU µs, which a busy shared
 * machine disturbs less than wall time. Every answer is checked.
 */
async function timeOne(variant: Variant, headers: Record<string, string>): Promise<[number, number]> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const res = await post(ME, headers);
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (res.statusCode !== 200 || res.body.trimEnd() !== `{"data":{"me":{"id":"${variant.userId}"}}}`)
    throw new Error(`${variant.name}: unexpected answer ${res.statusCode} ${res.body}`);
  return [wall, used.user + used.system];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const wallTimes = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const cpuTimes = new Map<string, number[]>(variants.map((v) => [v.name, []]));

for (let round = 0; round <= rounds; round++) {
  const warm = round === 0;
  const count = warm ? WARMUP : perRound;
  // Proofs are made just before their round: fresh (iat within the window), each used once.
  const prepared = await Promise.all(variants.map((v) => v.prepare(count)));
  // Interleaved request by request, in a rotating order, so that load from elsewhere on the machine,
  // GC and JIT fall on every variant alike.
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < variants.length; k++) {
      const index = (i + k) % variants.length;
      const variant = variants[index]!;
      const [wall, cpu] = await timeOne(variant, prepared[index]![i]!);
      if (warm) continue;
      wallTimes.get(variant.name)!.push(wall);
      cpuTimes.get(variant.name)!.push(cpu);
    }
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const baseName = variants[0]!.name;
const baseWall = median(wallTimes.get(baseName)!);
const baseCpu = sum(cpuTimes.get(baseName)!);
console.log(
  `node ${process.version}, ${config.database.provider}, ${rounds} rounds x ${perRound} requests per variant after ${WARMUP} warm-up, one in flight, interleaved`,
);
console.log(
  `${"".padEnd(40)} ${"median wall".padStart(12)} ${"ratio".padStart(6)} ${"mean CPU".padStart(10)} ${"ratio".padStart(6)}`,
);
for (const variant of variants) {
  const wall = median(wallTimes.get(variant.name)!);
  const cpuValues = cpuTimes.get(variant.name)!;
  const cpu = sum(cpuValues);
  console.log(
    `${variant.name.padEnd(40)} ${`${wall.toFixed(0)} µs`.padStart(12)} ${`x${(wall / baseWall).toFixed(2)}`.padStart(6)} ${`${(cpu / cpuValues.length).toFixed(0)} µs`.padStart(10)} ${`x${(cpu / baseCpu).toFixed(2)}`.padStart(6)}`,
  );
}

await server.close();
await database.close();
