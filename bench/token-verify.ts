// Micro-benchmark: AccessTokenVerifier.verify() on a cache miss (cache disabled: parse, signature,
// claims) against a cache hit (LRU lookup plus the expiry and key checks), side by side in one run.
// Run: npx tsx bench/token-verify.ts
import { KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { SigningAlg } from "../src/auth/keys/signing-key-material.js";
import { issueAccessToken } from "../src/auth/tokens/issue-access-token.js";
import { AccessTokenVerifier } from "../src/auth/tokens/verify-access-token.js";
import { systemClock } from "../src/clock.js";

const ROUNDS = 7;
const MISS_OPS = 2_000;
const HIT_OPS = 200_000;

async function setup(alg: SigningAlg) {
  // In-memory keys: the verify path never touches the database, so the bench does not need one.
  const pair = await generateKeyPair(alg);
  const kid = await calculateJwkThumbprint(await exportJWK(pair.publicKey));
  const keys = {
    signingKey: () => ({ kid, alg, key: pair.privateKey, keyObject: KeyObject.from(pair.privateKey) }),
    verificationKey: (k: string, a: string) => (k === kid && a === alg ? pair.publicKey : undefined),
  };
  const config = {
    issuer: "https://holdfast.bench",
    audience: "holdfast",
    alg,
    accessTokenTtlSeconds: 300,
    clockToleranceSeconds: 5,
  };
  const { token } = await issueAccessToken(
    { keys, clock: systemClock, config },
    {
      userId: "user-1",
      sessionId: "session-1",
      scopes: ["notes:read", "notes:write", "users:read:email"],
      jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    },
  );
  const miss = new AccessTokenVerifier({ keys, clock: systemClock, config: { ...config, cacheSize: 0 } });
  const hit = new AccessTokenVerifier({ keys, clock: systemClock, config: { ...config, cacheSize: 10_000 } });
  await hit.verify(token);
  return { token, miss, hit };
}

async function microsPerOp(verifier: AccessTokenVerifier, token: string, ops: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await verifier.verify(token);
  return Number(process.hrtime.bigint() - start) / 1000 / ops;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

console.log(`node ${process.version}, ${ROUNDS} interleaved rounds, median µs/op`);
console.log("alg     token-bytes   miss (no cache)   hit (cache)   miss/hit");
for (const alg of ["EdDSA", "ES256"] as const) {
  const { token, miss, hit } = await setup(alg);
  await microsPerOp(miss, token, 200); // warm-up
  await microsPerOp(hit, token, 20_000);
  const misses: number[] = [];
  const hits: number[] = [];
  // Interleaved, so a noisy neighbour on a shared machine slows both sides alike.
  for (let r = 0; r < ROUNDS; r++) {
    misses.push(await microsPerOp(miss, token, MISS_OPS));
    hits.push(await microsPerOp(hit, token, HIT_OPS));
  }
  const m = median(misses);
  const h = median(hits);
  console.log(
    `${alg.padEnd(7)} ${String(token.length).padStart(11)}   ${m.toFixed(1).padStart(15)}   ${h.toFixed(2).padStart(11)}   ${(m / h).toFixed(0).padStart(7)}x`,
  );
}
