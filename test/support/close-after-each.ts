import { afterEach } from "vitest";

/**
 * Closes, after each test, what that test opened into a `let` of the file:
 * `let f: Fixture | undefined; closeAfterEach(() => f, () => (f = undefined));`
 */
export function closeAfterEach(
  current: () => { close(): Promise<unknown> } | undefined,
  forget: () => void,
): void {
  afterEach(async () => {
    await current()?.close();
    forget();
  });
}
