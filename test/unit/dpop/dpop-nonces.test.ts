import { beforeEach, describe, expect, it } from "vitest";
import type { VerifyDpopProofDeps } from "../../../src/auth/dpop/index.js";
import { DpopNonces, MemoryReplayStore, verifyDpopProof } from "../../../src/auth/dpop/index.js";
import { DpopNonceRequiredError } from "../../../src/errors/app-error.js";
import type { DpopProofOptions, DpopTestKey } from "../../support/dpop-proof.js";
import { createDpopKey, createDpopProof } from "../../support/dpop-proof.js";
import { FakeClock } from "../../support/fake-clock.js";
import { expectRefused } from "./expect-dpop.js";

const SECRET = "a-nonce-secret-of-at-least-32-bytes!!";
const OTHER_SECRET = "another-secret-of-at-least-32-bytes!";
const ENDPOINT = "https://api.example.com/graphql";

describe("DpopNonces", () => {
  let clock: FakeClock;
  beforeEach(() => {
    // Start on a step boundary (60 s steps) so the tests can name exact step edges.
    clock = new FakeClock("2030-01-01T00:00:00.000Z");
  });

  it("issues a base64url HMAC-SHA256 value that stays the same within a step", () => {
    const nonces = new DpopNonces(SECRET, clock);
    const first = nonces.current();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    clock.advanceSeconds(59);
    expect(nonces.current()).toBe(first);
    clock.advanceSeconds(1);
    expect(nonces.current()).not.toBe(first);
  });

  it("accepts the current and the previous step's nonce, and refuses one two steps old", () => {
    const nonces = new DpopNonces(SECRET, clock);
    const issued = nonces.current();
    expect(nonces.isValid(issued)).toBe(true);
    clock.advanceSeconds(60);
    expect(nonces.isValid(issued)).toBe(true);
    clock.advanceSeconds(59);
    expect(nonces.isValid(issued)).toBe(true);
    clock.advanceSeconds(1);
    expect(nonces.isValid(issued)).toBe(false);
  });

  it("refuses a nonce from the future (a step ahead of this instance's clock)", () => {
    const ahead = new DpopNonces(SECRET, new FakeClock("2030-01-01T00:01:00.000Z"));
    expect(new DpopNonces(SECRET, clock).isValid(ahead.current())).toBe(false);
  });

  it("lets any instance with the same secret accept another instance's nonce", () => {
    const a = new DpopNonces(SECRET, clock);
    const b = new DpopNonces(new TextEncoder().encode(SECRET), clock);
    expect(b.isValid(a.current())).toBe(true);
    expect(b.current()).toBe(a.current());
  });

  it("refuses a nonce made with another secret", () => {
    const foreign = new DpopNonces(OTHER_SECRET, clock);
    expect(new DpopNonces(SECRET, clock).isValid(foreign.current())).toBe(false);
  });

  it.each([[""], ["short"], ["x".repeat(43)], ["é".repeat(43)], ["x".repeat(1000)]])(
    "refuses %s",
    (nonce) => {
      expect(new DpopNonces(SECRET, clock).isValid(nonce)).toBe(false);
    },
  );

  it("honours the step length", () => {
    const nonces = new DpopNonces(SECRET, clock, 10);
    const issued = nonces.current();
    clock.advanceSeconds(19);
    expect(nonces.isValid(issued)).toBe(true);
    clock.advanceSeconds(1);
    expect(nonces.isValid(issued)).toBe(false);
  });

  it("refuses a secret shorter than 32 bytes and a non-positive step", () => {
    expect(() => new DpopNonces("too-short", clock)).toThrow(RangeError);
    expect(() => new DpopNonces(SECRET, clock, 0)).toThrow(RangeError);
  });
});

describe("verifyDpopProof with server nonces (RFC 9449 §8)", () => {
  let clock: FakeClock;
  let nonces: DpopNonces;
  let store: MemoryReplayStore;
  let deps: VerifyDpopProofDeps;
  let key: DpopTestKey;

  beforeEach(async () => {
    clock = new FakeClock("2030-01-01T00:00:00.000Z");
    nonces = new DpopNonces(SECRET, clock);
    store = new MemoryReplayStore(clock);
    deps = { clock, replayStore: store, nonces };
    key = await createDpopKey();
  });

  const proof = (options: Partial<DpopProofOptions> = {}) =>
    createDpopProof(key, { htm: "POST", htu: ENDPOINT, iat: clock.now(), ...options });
  const verify = (jws: string) =>
    verifyDpopProof({ headerValues: [jws], method: "POST", url: ENDPOINT }, deps);

  async function expectNonceRequired(promise: Promise<unknown>): Promise<DpopNonceRequiredError> {
    const error = await promise.then(
      () => {
        throw new Error("expected use_dpop_nonce, but the proof was accepted");
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DpopNonceRequiredError);
    expect(error).toMatchObject({ code: "UNAUTHENTICATED", reason: "use_dpop_nonce", httpStatus: 401 });
    const { nonce } = error as DpopNonceRequiredError;
    // The error hands out a fresh nonce that this server accepts right now.
    expect(nonce).toBe(nonces.current());
    expect(nonces.isValid(nonce)).toBe(true);
    return error as DpopNonceRequiredError;
  }

  it("accepts a proof carrying the current nonce", async () => {
    await expect(verify(await proof({ nonce: nonces.current() }))).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("asks for a nonce when the proof has none, and accepts the retry that carries it", async () => {
    const { nonce } = await expectNonceRequired(verify(await proof()));
    await expect(verify(await proof({ nonce }))).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("asks again when the nonce is two steps old", async () => {
    const stale = nonces.current();
    clock.advanceSeconds(120);
    await expectNonceRequired(verify(await proof({ nonce: stale })));
  });

  it("accepts a nonce from the previous step", async () => {
    const previous = nonces.current();
    clock.advanceSeconds(60);
    await expect(verify(await proof({ nonce: previous }))).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("asks again when the nonce comes from another secret", async () => {
    const foreign = new DpopNonces(OTHER_SECRET, clock).current();
    await expectNonceRequired(verify(await proof({ nonce: foreign })));
  });

  it("asks again when the nonce is not a string", async () => {
    await expectNonceRequired(verify(await proof({ overridePayload: { nonce: 42 } })));
  });

  it("refuses a badly signed proof as invalid, without offering a nonce", async () => {
    const other = await createDpopKey();
    await expectRefused(verify(await proof({ signWith: other })), "signature");
  });

  it("does not consume the jti of a proof refused for its nonce", async () => {
    await expectNonceRequired(verify(await proof({ jti: "retried" })));
    expect(store.size).toBe(0);
  });
});
