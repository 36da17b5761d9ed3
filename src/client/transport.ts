import type { ClientClock, ClientTimers } from "./client-types.js";
import type { DpopKeyStore } from "./dpop-key-store.js";
import { createDpopSigner, type DpopAlgorithm, type DpopSigner, generateDpopKeyPair } from "./dpop-proof.js";
import { type Exchange, failureOf, type Operation, parseBody } from "./graphql-exchange.js";
import { HoldfastClientError } from "./holdfast-client-error.js";

/** The token a request carries: the scheme says whether a DPoP proof must go with it. */
export interface AccessCredential {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
}

export interface TransportOptions {
  readonly endpoint: string;
  readonly fetch: typeof fetch;
  readonly clock: ClientClock;
  readonly timers: ClientTimers;
  readonly requestTimeoutMs: number;
  /** Send cookies (the browser's HttpOnly refresh cookie) with every request. */
  readonly includeCredentials: boolean;
  readonly dpop: {
    readonly enabled: boolean;
    readonly algorithm: DpopAlgorithm;
    readonly keyStore: DpopKeyStore;
  };
}

export interface Transport {
  readonly endpoint: string;
  readonly dpopEnabled: boolean;
  /**
   * One call to the server, with a DPoP proof when the token is bound (or when `bind` asks for tokens
   * to be bound: login, register, refresh).
   */
  send(operation: Operation, token: AccessCredential | null, bind: boolean): Promise<Exchange>;
  /**
   * A DPoP proof for a request this transport does not make itself (a WebSocket upgrade, another
   * endpoint of the same server), on the server's clock and with its latest nonce.
   */
  proof(request: { htm: string; htu: string; accessToken?: string | undefined }): Promise<string>;
}

/** A proof refused while our clock was off from the server's by more than this is signed again. */
const CLOCK_RETRY_MS = 2_000;

/**
 * HTTP and DPoP for the client: the request timeout, the signer over the stored key, the server's
 * latest nonce, and the offset between our clock and the server's.
 */
export function createTransport(options: TransportOptions): Transport {
  const { endpoint, clock, timers } = options;
  let lastNonce: string | null = null;
  /** The server's clock minus ours (ms), from the last `Date` header; 0 until one arrives. */
  let serverOffsetMs = 0;
  let signer: Promise<DpopSigner> | null = null;

  function getSigner(): Promise<DpopSigner> {
    const { keyStore, algorithm } = options.dpop;
    signer ??= (async () => {
      let keyPair: CryptoKeyPair;
      try {
        keyPair =
          (await keyStore.get()) ?? (await keyStore.setIfAbsent(await generateDpopKeyPair(algorithm)));
      } catch {
        // A key store that fails (private browsing, quota) costs persistence across reloads, not DPoP.
        keyPair = await generateDpopKeyPair(algorithm);
      }
      return createDpopSigner(keyPair);
    })();
    signer.catch(() => {
      signer = null;
    });
    return signer;
  }

  async function sign(htm: string, htu: string, offsetMs: number, accessToken: string | undefined) {
    return (await getSigner()).sign({
      htm,
      htu,
      iat: Math.floor((clock.now() + offsetMs) / 1000),
      accessToken,
      nonce: lastNonce ?? undefined,
    });
  }

  async function post(operation: Operation, headers: Record<string, string>): Promise<Exchange> {
    const controller = new AbortController();
    // 0 (or Infinity) turns the timeout off.
    const timeout =
      options.requestTimeoutMs > 0 && Number.isFinite(options.requestTimeoutMs)
        ? timers.setTimeout(() => controller.abort(), options.requestTimeoutMs)
        : null;
    try {
      const init: RequestInit = {
        method: "POST",
        headers,
        body: JSON.stringify(operation),
        signal: controller.signal,
      };
      // The refresh cookie is HttpOnly and scoped by the server; the browser attaches it only if asked.
      if (options.includeCredentials) init.credentials = "include";
      const response = await options.fetch(endpoint, init);
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: parseBody(text),
        receivedAtMs: clock.now(),
      };
    } catch (cause) {
      throw new HoldfastClientError("NETWORK_ERROR", "The request did not complete", {
        retryable: true,
        cause,
      });
    } finally {
      if (timeout !== null) timers.clearTimeout(timeout);
    }
  }

  /**
   * A `use_dpop_nonce` answer is retried once with the nonce the server gave (RFC 9449 §8); a second
   * demand is returned as it is, never looped on.
   *
   * The proof's `iat` is on the server's clock as its `Date` header shows it: a device whose clock is
   * minutes off would otherwise have every proof refused (the server accepts `iat` only within a
   * window around its own time, RFC 9449 §11.1). The first call cannot know the offset yet, so an
   * `invalid_dpop_proof` answer whose `Date` reveals a clock off by more than CLOCK_RETRY_MS is retried
   * once with a proof on the corrected clock. DPoP is checked before anything runs, so nothing is
   * repeated on the server.
   */
  async function send(
    operation: Operation,
    token: AccessCredential | null,
    bind: boolean,
  ): Promise<Exchange> {
    let retriedNonce = false;
    let retriedClock = false;
    for (;;) {
      const offsetUsedMs = serverOffsetMs;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      };
      if (token) headers.authorization = `${token.tokenType} ${token.accessToken}`;
      const proves = options.dpop.enabled && (bind || token?.tokenType === "DPoP");
      if (proves) {
        headers.dpop = await sign(
          "POST",
          endpoint,
          offsetUsedMs,
          token?.tokenType === "DPoP" ? token.accessToken : undefined,
        );
      }
      const exchange = await post(operation, headers);
      const serverDateMs = Date.parse(exchange.headers.get("date") ?? "");
      // `Date` has whole seconds: the server's time was somewhere in the second it names.
      if (!Number.isNaN(serverDateMs)) serverOffsetMs = serverDateMs + 500 - exchange.receivedAtMs;
      const nonce = exchange.headers.get("dpop-nonce");
      if (nonce) lastNonce = nonce;
      const reason = proves ? failureOf(exchange)?.reason : undefined;
      if (reason === "use_dpop_nonce" && nonce && !retriedNonce) {
        retriedNonce = true;
        continue;
      }
      if (
        reason === "invalid_dpop_proof" &&
        !retriedClock &&
        Math.abs(serverOffsetMs - offsetUsedMs) > CLOCK_RETRY_MS
      ) {
        retriedClock = true;
        continue;
      }
      return exchange;
    }
  }

  const transport: Transport = {
    endpoint,
    dpopEnabled: options.dpop.enabled,
    send,
    proof: ({ htm, htu, accessToken }) => sign(htm, htu, serverOffsetMs, accessToken),
  };
  return Object.freeze(transport);
}
