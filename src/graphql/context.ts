import type DataLoader from "dataloader";
import type { ClientInfo } from "../auth/auth-payload.js";
import type { AuthService } from "../auth/auth-service.js";
import type { SessionService } from "../auth/sessions/session-service.js";
import type { Viewer } from "../auth/viewer.js";
import { UnauthenticatedError } from "../errors/app-error.js";
import type { NoteService } from "../notes/note-service.js";
import type { UserModel } from "../users/user-model.js";
import type { UserService } from "../users/user-service.js";
import type { LiveStreams } from "./live.js";

/** Long-lived services, shared by every request. */
export interface Services {
  readonly users: UserService;
  readonly notes: NoteService;
  readonly sessions: SessionService;
  readonly auth: AuthService;
  readonly keys: { rotate(): Promise<{ kid: string; activatesAt: Date }> };
}

/** The refresh cookie, as the `refresh`, `login` and `logout` mutations see it. */
export interface RefreshCookie {
  /** Only the refresh mutation reads it. */
  read(): string | null;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface GraphQLContext {
  readonly viewer: Viewer | null;
  /** Thumbprint of the request's verified DPoP proof (login and refresh bind to it), or null. */
  readonly proofJkt: string | null;
  readonly client: ClientInfo;
  readonly services: Services;
  readonly refreshCookie: RefreshCookie;
  readonly loaders: { readonly user: DataLoader<string, UserModel | null> };
  /** A WebSocket subscription's event streams; absent over HTTP. */
  readonly live?: LiveStreams;
}

/** Identity, not permission: the acting user of a mutation must be known. */
export function requireViewer(context: GraphQLContext): Viewer {
  if (!context.viewer) throw new UnauthenticatedError("authentication_required", "Sign in to do this");
  return context.viewer;
}
