import { performance } from "node:perf_hooks";
import type { LoadDriver } from "./load-driver.js";

const REFRESH = "mutation Refresh($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }";

/**
 * Refresh rotations in a loop. autocannon cannot chain a token that changes on every answer, so each
 * worker is a plain fetch loop that owns one session: send the current refresh token (BODY
 * delivery), keep its successor, repeat. A worker whose rotation fails stops for good (its chain is
 * broken) and the failure is counted in that slice.
 */
export function rotationLoad(graphqlUrl: string, refreshTokens: readonly string[]): LoadDriver {
  const tokens: (string | null)[] = [...refreshTokens];
  return {
    async run(seconds) {
      const started = performance.now();
      const deadline = started + seconds * 1000;
      const latencies: number[] = [];
      let errors = 0;
      let non2xx = 0;
      const worker = async (index: number) => {
        while (tokens[index] && performance.now() < deadline) {
          const sent = performance.now();
          let status = 0;
          let next: string | null | undefined;
          try {
            const response = await fetch(graphqlUrl, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ query: REFRESH, variables: { t: tokens[index] } }),
            });
            status = response.status;
            const body = (await response.json()) as { data?: { refresh?: { refreshToken?: string | null } } };
            next = body.data?.refresh?.refreshToken;
          } catch {
            // A socket error or a body that is not JSON: counted below.
          }
          if (status >= 200 && status < 300 && typeof next === "string") {
            latencies.push(performance.now() - sent);
            tokens[index] = next;
          } else {
            if (status >= 300 || (status > 0 && status < 200)) non2xx += 1;
            else errors += 1;
            tokens[index] = null;
          }
        }
      };
      await Promise.all(tokens.map((_, i) => worker(i)));
      return {
        ok: latencies.length,
        latenciesMs: latencies,
        errors,
        non2xx,
        seconds: (performance.now() - started) / 1000,
      };
    },
  };
}
