import autocannon from "autocannon";
import { type Measurement, percentile } from "./measurement.js";

export interface HttpLoad {
  readonly url: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** One GraphQL operation, sent as a JSON POST on every request. */
  readonly query: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A 2xx answer whose body fails this check counts as an error (a GraphQL error is still HTTP 200). */
  readonly expectBody: (body: string) => boolean;
}

/** Drives the server with autocannon: an unmeasured warm-up, then the measured window. */
export async function runHttpLoad(load: HttpLoad): Promise<Measurement> {
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
  if (load.warmupSeconds > 0) await autocannon({ ...request, duration: load.warmupSeconds });
  // autocannon's own histogram keeps whole milliseconds; its response events carry the exact time.
  const latencies: number[] = [];
  const instance = autocannon({ ...request, duration: load.seconds });
  instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  // autocannon checks every body, whatever its status: a non-2xx answer is a mismatch as well
  // (its body is an error), so the 2xx answers with a wrong body are the difference.
  const bad2xx = Math.max(0, result.mismatches - result.non2xx);
  return {
    perSecond: (result["2xx"] - bad2xx) / result.duration,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    total: result["2xx"] + result.non2xx,
    // result.errors already counts timeouts.
    errors: result.errors + bad2xx,
    non2xx: result.non2xx,
  };
}
