import { type UserAuthentication, type Viewer, viewerOf } from "../../src/auth/viewer.js";

/** A signed-in viewer for rule tests that need no token: user u1 in session s1, with these scopes. */
export function testViewer(
  scopes: Iterable<string>,
  authentication: UserAuthentication | null = null,
): Viewer {
  return viewerOf({
    userId: "u1",
    sessionId: "s1",
    scopes: new Set(scopes),
    jkt: null,
    expiresAt: 0,
    tokenId: "j",
    authentication,
  });
}
