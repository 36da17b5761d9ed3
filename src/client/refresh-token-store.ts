/**
 * Where a Node or native client keeps its refresh token. Giving one to `createHoldfastClient` switches
 * to BODY delivery: the server returns the refresh token in the response instead of a cookie. Persist it
 * somewhere only this program can read (an OS keychain, a 0600 file), never next to logs.
 */
export interface RefreshTokenStore {
  get(): Promise<string | null>;
  /** `null` removes it (logout, or the server refused it). */
  set(token: string | null): Promise<void>;
}

/** Keeps the refresh token in memory: the session ends with the process. */
export function createMemoryRefreshTokenStore(initial: string | null = null): RefreshTokenStore {
  let token = initial;
  return Object.freeze({
    async get() {
      return token;
    },
    async set(next: string | null) {
      token = next;
    },
  });
}
