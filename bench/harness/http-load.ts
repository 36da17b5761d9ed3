import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import type { LoadDriver } from "./load-driver.js";

export interface HttpLoad {
  readonly url: string;
  readonly connections: number;
  /** One GraphQL operation, sent as a JSON POST on every request. */
  readonly query: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A 2xx answer whose body fails this check counts as an error (a GraphQL error is still HTTP 200). */
  readonly expectBody: (body: string) => boolean;
}

/** Drives the server with autocannon, one run per slice. */
export function httpLoad(load: HttpLoad): LoadDriver {
  const request = {
    url: load.url,
    method: "POST" as const,
    headers: { "content-type": "application/json", ...load.headers },
    body: JSON.stringify({ query: load.query }),
    connections: load.connections,
    // One request in flight per connection: the latency is the server's answer time, not a queue.
    pipelining: 1,
    timeout: 10,
    verifyBody: load.expectBody,
  };
  return {
    async run(seconds) {
      // autocannon's own histogram keeps whole milliseconds; its response events carry the exact time.
      const latencies: number[] = [];
      const started = performance.now();
      const instance = autocannon({ ...request, duration: seconds });
      instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
      });
      const result = await instance;
      const wall = (performance.now() - started) / 1000;
      // autocannon checks every body, whatever its status: a non-2xx answer is a mismatch as well
      // (its body is an error), so the 2xx answers with a wrong body are the difference.
      const bad2xx = Math.max(0, result.mismatches - result.non2xx);
      return {
        ok: result["2xx"] - bad2xx,
        // Latencies of the bad 2xx answers cannot be told apart; they are rare or the row is void.
        latenciesMs: latencies,
        // result.errors already counts timeouts.
        errors: result.errors + bad2xx,
        non2xx: result.non2xx,
        seconds: wall,
      };
    },
  };
}
