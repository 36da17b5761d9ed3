// Micro-benchmark: the cost of verifying a DPoP proof next to the cost of verifying the access token it
// accompanies (jose EdDSA jwtVerify). Both run in the same process, interleaved round by round, and the
// result is read as a ratio. Run: npx tsx bench/dpop-verify.ts [proofsPerRound] [rounds]
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
import type { DpopAlgorithm } from "../src/auth/dpop/index.js";
import { DpopNonces, MemoryReplayStore, verifyDpopProof } from "../src/auth/dpop/index.js";
import { systemClock } from "../src/clock.js";
import type { DpopTestAlg } from "../test/support/dpop-proof.js";
import { createDpopKey, createDpopProof } from "../test/support/dpop-proof.js";

const ENDPOINT = "https://api.example.com/graphql";
const perRound = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const clock = systemClock;

async function timeEach<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (const item of items) await run(item);
  return Number(process.hrtime.bigint() - start) / 1000 / items.length;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function accessToken() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  const token = await new SignJWT({ scope: "notes:read", sid: "s1", cnf: { jkt: "x".repeat(43) } })
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: "k1" })
    .setIssuer("https://api.example.com")
    .setAudience("holdfast")
    .setSubject("user-1")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
  return { token, publicKey };
}

async function proofs(alg: DpopTestAlg, count: number, token: string, nonce?: string) {
  const key = await createDpopKey(alg);
  const list: string[] = [];
  for (let i = 0; i < count; i++) {
    list.push(
      await createDpopProof(key, {
        htm: "POST",
        htu: ENDPOINT,
        iat: clock.now(),
        accessToken: token,
        ...(nonce === undefined ? {} : { nonce }),
      }),
    );
  }
  return { key, list };
}

async function main() {
  const { token, publicKey } = await accessToken();
  const nonces = new DpopNonces("bench-secret-bench-secret-bench-secret", clock);
  const algorithms: DpopAlgorithm[] = ["EdDSA", "Ed25519", "ES256"];
  const results: Record<string, number[]> = {};
  const record = (name: string, usPerOp: number) => {
    results[name] ??= [];
    results[name].push(usPerOp);
  };

  // Warm-up, then interleaved rounds: each round uses fresh proofs (a jti is accepted once).
  for (let round = 0; round <= rounds; round++) {
    const warm = round === 0;
    const n = warm ? Math.min(500, perRound) : perRound;
    const ed = await proofs("EdDSA", n, token);
    const es = await proofs("ES256", n, token);
    const edNonce = await proofs("EdDSA", n, token, nonces.current());
    const wrongHtu = ed.list.map((p) => p); // same proofs, refused at htu before any crypto
    const replayStore = new MemoryReplayStore(clock);
    const tokens = Array.from({ length: n }, () => token);

    const jwt = await timeEach(tokens, (t) =>
      jwtVerify(t, publicKey, {
        algorithms: ["EdDSA"],
        typ: "at+jwt",
        issuer: "https://api.example.com",
        audience: "holdfast",
        currentDate: clock.now(),
      }),
    );
    const rejected = await timeEach(wrongHtu, (p) =>
      verifyDpopProof(
        { headerValues: [p], method: "POST", url: "https://other.example.com/graphql", accessToken: token },
        { clock, replayStore, algorithms },
      ).catch(() => undefined),
    );
    const dpopEd = await timeEach(ed.list, (p) =>
      verifyDpopProof(
        { headerValues: [p], method: "POST", url: ENDPOINT, accessToken: token, expectedJkt: ed.key.jkt },
        { clock, replayStore, algorithms },
      ),
    );
    const dpopEs = await timeEach(es.list, (p) =>
      verifyDpopProof(
        { headerValues: [p], method: "POST", url: ENDPOINT, accessToken: token, expectedJkt: es.key.jkt },
        { clock, replayStore, algorithms },
      ),
    );
    const dpopNonce = await timeEach(edNonce.list, (p) =>
      verifyDpopProof(
        {
          headerValues: [p],
          method: "POST",
          url: ENDPOINT,
          accessToken: token,
          expectedJkt: edNonce.key.jkt,
        },
        { clock, replayStore, algorithms, nonces },
      ),
    );
    if (warm) continue;
    record("jose jwtVerify EdDSA access token", jwt);
    record("verifyDpopProof EdDSA (ath, jkt)", dpopEd);
    record("verifyDpopProof ES256 (ath, jkt)", dpopEs);
    record("verifyDpopProof EdDSA + nonce", dpopNonce);
    record("verifyDpopProof refused at htu", rejected);
  }

  const baseline = median(results["jose jwtVerify EdDSA access token"]!);
  console.log(
    `node ${process.version}, ${rounds} rounds x ${perRound} ops, median µs/op (ratio to jwtVerify)`,
  );
  for (const [name, values] of Object.entries(results)) {
    const us = median(values);
    console.log(`${name.padEnd(38)} ${us.toFixed(1).padStart(8)} µs/op   x${(us / baseline).toFixed(2)}`);
  }
}

await main();
