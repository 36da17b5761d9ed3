/**
 * What permission rules read of the caller. auth's `Viewer` (src/auth/viewer.ts) satisfies it
 * structurally: authz imports no service, so it names only the facts it decides from.
 */
export interface RuleViewer {
  readonly userId: string;
  readonly scopes: ReadonlySet<string>;
}
