/**
 * DEMO ONLY: what `HoldfastClientOptions.unsafeDemoTokenTap` receives. The client keeps its access
 * token in a closure so that no other code can read it; this tap deliberately hands each new token
 * out, so that the demo console can decode it and play the thief. An application must never set it:
 * a token given to page code is one XSS away from being copied (though DPoP still makes the copy
 * useless without the key).
 */
export interface DemoTokenEvent {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
  readonly expiresAt: Date;
  readonly scopes: readonly string[];
  readonly sessionId: string;
  /** How the client got it: sign-in (login/register), its own refresh, or another tab's refresh. */
  readonly via: "sign_in" | "refresh" | "other_tab";
  /** On the client's clock (ms since the epoch). */
  readonly receivedAtMs: number;
}

export type DemoTokenTap = (event: DemoTokenEvent) => void;
