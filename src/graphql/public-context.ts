import type { Clock } from "../clock.js";
import type { DriverHandle } from "../db/database.js";
import type { UserModel } from "../users/user-model.js";

/**
 * Who is calling, as a module's resolvers and policies see it (DESIGN.md: `context.viewer`). Built
 * from the verified access token alone: reading it costs no database round trip.
 */
export interface HoldfastViewer {
  readonly userId: string;
  /** The session (refresh-token family) the token belongs to. */
  readonly sessionId: string;
  readonly scopes: ReadonlySet<string>;
  /** Epoch seconds of the session's last sign-in or re-authentication (`auth_time`), or null. */
  readonly authTime: number | null;
  /** How it signed in (`acr`: `pwd` for a password, `phr` for a passkey), or null. */
  readonly acr: string | null;
}

/**
 * Events between resolvers and subscriptions, on every instance: in process on the embedded default,
 * through Redis when it is configured. Payloads travel as JSON in both modes (a Date arrives as its
 * ISO string), so a module sees the same values on one instance or many.
 */
export interface ModuleEvents {
  /** Never throws for a listener's sake and never waits for delivery; a payload JSON cannot carry throws. */
  publish(topic: string, payload: unknown): void;
  /**
   * In a subscription field's `subscribe`: the stream of the topic's events for this WebSocket
   * connection. Each event then passes the field's rules with the viewer at delivery.
   */
  subscribe<T = unknown>(topic: string): AsyncIterable<T>;
}

/** The database Holdfast runs on, for a module that shares its connection (it may bring its own). */
export type HoldfastDatabase = DriverHandle;

/** A Holdfast account as other types may reference it (an order's owner): public fields only. */
export type HoldfastUser = Pick<UserModel, "id" | "displayName" | "createdAt">;

/** The context every resolver receives, a module's included. */
export interface HoldfastContext {
  readonly viewer: HoldfastViewer | null;
  readonly events: ModuleEvents;
  /** Loads accounts by id, batched per request (a `User` field of a module's type resolves to one). */
  readonly users: { load(id: string): Promise<HoldfastUser | null> };
  readonly database: HoldfastDatabase;
  readonly clock: Clock;
}
