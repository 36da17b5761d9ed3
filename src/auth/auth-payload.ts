import type { UserModel } from "../users/user-model.js";
import type { SessionModel } from "./sessions/session-model.js";

export interface AuthPayloadModel {
  readonly accessToken: string;
  readonly tokenType: "Bearer" | "DPoP";
  readonly expiresAt: Date;
  readonly scopes: readonly string[];
  /** Set only for BODY delivery; COOKIE delivery puts it in the refresh cookie instead. */
  readonly refreshToken: string | null;
  readonly session: SessionModel;
  readonly user: UserModel;
}

/** Where the request came from, for session listings and audit events. */
export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
}
