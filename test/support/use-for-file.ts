import { afterAll, beforeAll } from "vitest";

/**
 * Something a whole test file shares (a server, a browser): started in `beforeAll`, stopped in
 * `afterAll`. Call at the top level of a test file. The returned object stands for the started
 * value (reading it before `beforeAll` has run throws), so tests use it as if they had started it.
 */
export function useForFile<T extends object>(start: () => Promise<T>, stop: (value: T) => Promise<void>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await stop(started);
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!started) throw new Error("started in beforeAll: use it inside a hook or a test");
      const value = Reflect.get(started, key, started);
      return typeof value === "function" ? value.bind(started) : value;
    },
  });
}
