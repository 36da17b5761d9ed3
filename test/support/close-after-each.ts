import { afterEach } from "vitest";

interface Closable {
  close(): Promise<unknown>;
}

/**
 * Closes, after each test, what that test opened:
 * `const opened = closeAfterEach();` at the top of the file, then `const f = opened(await createFixture())`.
 */
export function closeAfterEach(): <T extends Closable>(value: T) => T {
  let open: Closable[] = [];
  afterEach(async () => {
    const closing = open;
    open = [];
    await Promise.all(closing.map((value) => value.close()));
  });
  return (value) => {
    open.push(value);
    return value;
  };
}
