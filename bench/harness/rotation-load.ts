import { performance } from "node:perf_hooks";
import { type Measurement, percentile } from "./measurement.js";

export interface RotationLoad {
  readonly graphqlUrl: string;
  /** One BODY-delivery refresh token per worker: each worker owns one session and rotates it. */
  readonly refreshTokens: readonly string[];
  readonly seconds: number;
  readonly warmupSeconds: number;
}

const REFRESH = "mutation Refresh($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }";

/**
 * Refresh rotations in a loop. autocannon cannot chain a token that changes on every answer, so each
 * worker is a plain fetch loop: send the current refresh token, keep its successor, repeat. A worker
 * whose rotation fails stops (its chain is broken) and the failure is counted, warm-up included.
 */
export async function runRotationLoad(load: RotationLoad): Promise<Measurement> {
  const started = performance.now();
  const measureFrom = started + load.warmupSeconds * 1000;
  const measureUntil = measureFrom + load.seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;

  const worker = async (initial: string) => {
    let token = initial;
    for (;;) {
      const sent = performance.now();
      if (sent >= measureUntil) return;
      const measured = sent >= measureFrom;
      let next: string | null | undefined;
      let ok = false;
      let status = 0;
      try {
        const response = await fetch(load.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: REFRESH, variables: { t: token } }),
        });
        const body = (await response.json()) as { data?: { refresh?: { refreshToken?: string | null } } };
        next = body.data?.refresh?.refreshToken;
        status = response.status;
        ok = response.ok && typeof next === "string";
      } catch {
        // A socket error: counted below with the 2xx answers that carried no successor.
      }
      const took = performance.now() - sent;
      if (!ok) {
        // Counted in the warm-up too: a worker lost there is missing from the whole measurement.
        if (status >= 300 || (status > 0 && status < 200)) non2xx += 1;
        else errors += 1;
        return;
      }
      if (measured) latencies.push(took);
      token = next!;
    }
  };

  await Promise.all(load.refreshTokens.map(worker));
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / load.seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    total: latencies.length + errors,
    errors,
    non2xx,
  };
}
