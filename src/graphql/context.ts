import type DataLoader from "dataloader";
import type { ClientInfo } from "../auth/auth-payload.js";
import type { AuthService } from "../auth/auth-service.js";
import type { PasskeyService } from "../auth/passkeys/passkey-service.js";
import type { AuthLimits } from "../auth/rate-limit.js";
import type { SessionService } from "../auth/sessions/session-service.js";
import type { Viewer } from "../auth/viewer.js";
import type { StepUpPolicy } from "../authz/field-rule.js";
import type { Clock } from "../clock.js";
import { UnauthenticatedError } from "../errors/app-error.js";
import type { ModuleEvents } from "../events/index.js";
import type { UserModel } from "../users/user-model.js";
import type { UserService } from "../users/user-service.js";
import type { HoldfastContext, HoldfastDatabase } from "./public-context.js";

/** Long-lived services, shared by every request. */
export interface Services {
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly auth: AuthService;
  readonly keys: { rotate(): Promise<{ kid: string; activatesAt: Date }> };
  readonly passkeys: PasskeyService;
  readonly limits: AuthLimits;
}

/** The refresh cookie, as the `refresh`, `login` and `logout` mutations see it. */
export interface RefreshCookie {
  /** Only the refresh mutation reads it. */
  read(): string | null;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

/** What every resolver receives: a module's see its public part (HoldfastContext). */
export interface GraphQLContext extends HoldfastContext {
  readonly viewer: Viewer | null;
  /** Thumbprint of the request's verified DPoP proof (login and refresh bind to it), or null. */
  readonly proofJkt: string | null;
  readonly client: ClientInfo;
  readonly services: Services;
  readonly refreshCookie: RefreshCookie;
  readonly loaders: { readonly user: DataLoader<string, UserModel | null> };
  /**
   * Publish to a topic from anywhere; subscribe inside a subscription field's `subscribe` (over
   * WebSocket: a stream bound to the connection; over HTTP: BAD_USER_INPUT websocket_required).
   */
  readonly events: ModuleEvents;
  /** What step-up rules (RFC 9470) read: STEP_UP_MAX_AGE_SECONDS and the clock. */
  readonly stepUp: StepUpPolicy;
  /** The database modules share (HoldfastContext). */
  readonly database: HoldfastDatabase;
  readonly clock: Clock;
}

/** Identity, not permission: the acting user of a mutation must be known. */
export function requireViewer<V>(context: { readonly viewer: V | null }): V {
  if (!context.viewer) throw new UnauthenticatedError("authentication_required", "Sign in to do this");
  return context.viewer;
}
