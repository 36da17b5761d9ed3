import {
  createHoldfastClient,
  createMemoryDpopKeyStore,
  HoldfastClientError,
  type HoldfastClientOptions,
} from "../../../../src/client/index.js";
import { FakeHoldfastServer, type FakeServerOptions } from "./fake-holdfast-server.js";
import { FakeTime } from "./fake-time.js";

export interface HarnessOptions extends Partial<HoldfastClientOptions> {
  readonly server?: Omit<FakeServerOptions, "time">;
  readonly time?: FakeTime;
  readonly fakeServer?: FakeHoldfastServer;
}

/** A client wired to a fake server and a fake clock, recording what it signals. */
export function clientHarness(options: HarnessOptions = {}) {
  const { server: serverOptions, time: givenTime, fakeServer, ...clientOptions } = options;
  const time = givenTime ?? new FakeTime();
  const server = fakeServer ?? new FakeHoldfastServer({ time, ...serverOptions });
  const lost: string[] = [];
  const logouts: string[] = [];
  const keyStore = clientOptions.keyStore ?? createMemoryDpopKeyStore();
  const client = createHoldfastClient({
    endpoint: server.endpoint,
    fetch: server.fetch,
    clock: time,
    timers: time,
    random: () => 0.5,
    requestTimeoutMs: 0,
    onSessionLost: (reason) => lost.push(reason),
    onLogout: (info) => logouts.push(info.source),
    ...clientOptions,
    keyStore,
  });
  return { time, server, client, lost, logouts, keyStore };
}

export const ada = { email: "ada@example.test", password: "correct horse battery staple" };

/** The HoldfastClientError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<HoldfastClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HoldfastClientError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** The calls of a login refused once (a DPoP proof the server asked to redo), retried, then one `me`. */
export const LOGIN_RETRIED_THEN_ME = [
  ["Login", 401],
  ["Login", 200],
  ["Me", 200],
];
