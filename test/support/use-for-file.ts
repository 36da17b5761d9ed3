import { afterAll, beforeAll } from "vitest";

/**
 * Something a whole test file shares (a server, a browser): started in `beforeAll`, stopped in
 * `afterAll`. Call at the top level of a test file (or of a describe block, for that block). The
 * returned object stands for the started value (reading it before `beforeAll` has run throws), so
 * tests use it as if they had started it.
 */
export function useForFile<T extends object>(start: () => Promise<T>, stop: (value: T) => Promise<void>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await stop(started);
  });
  return standIn(() => started);
}

/** An object that stands for what `current` returns once a `beforeAll` has set it (earlier reads throw). */
export function standIn<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const started = current();
      if (!started) throw new Error("started in beforeAll: use it inside a hook or a test");
      const value = Reflect.get(started, key, started);
      return typeof value === "function" ? value.bind(started) : value;
    },
  });
}
