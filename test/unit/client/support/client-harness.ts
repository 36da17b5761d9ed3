import {
  createHoldfastClient,
  createMemoryDpopKeyStore,
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
