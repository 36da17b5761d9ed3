import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { type Clock, epochSeconds } from "../../clock.js";
import type { KeyStore } from "../keys/key-store.js";
import type { Revocation, RevocationBus } from "./revocation.js";

/** CAEP `session-revoked` (OpenID CAEP 1.0 §3.1), carried as a Security Event Token (RFC 8417). */
export const SESSION_REVOKED_EVENT = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/** RFC 8417 §2.3: explicit typing, so a SET can never pass for an access token (`at+jwt`) or the reverse. */
export const SET_TYP = "secevent+jwt";

export interface SecurityEventSigner {
  readonly keys: Pick<KeyStore, "signingKey">;
  readonly clock: Clock;
  /** The token issuer: receivers verify SETs with the same JWKS as access tokens. */
  readonly issuer: string;
  /** The access tokens' audience: the resource servers the event is for. */
  readonly audience: string;
}

/**
 * One signed SET per revoked session. The subject is the session (`sub_id` with the opaque `sid`
 * that access tokens carry); `tokens_expire_by` says how long a receiver must remember it (after
 * that every access token of the session has expired by itself).
 */
export function signSessionRevoked(signer: SecurityEventSigner, revocation: Revocation): Promise<string> {
  const now = epochSeconds(signer.clock.now());
  const { kid, alg, key } = signer.keys.signingKey();
  return new SignJWT({
    jti: randomBytes(16).toString("base64url"),
    sub_id: { format: "opaque", id: revocation.sessionId },
    events: {
      [SESSION_REVOKED_EVENT]: {
        event_timestamp: now,
        tokens_expire_by: epochSeconds(revocation.until),
      },
    },
  })
    .setProtectedHeader({ alg, kid, typ: SET_TYP })
    .setIssuer(signer.issuer)
    .setAudience(signer.audience)
    .setIssuedAt(now)
    .sign(key);
}

/** CAEP `credential-change` (OpenID CAEP 1.0 §3.3): a way to sign in was added or removed. */
export const CREDENTIAL_CHANGE_EVENT =
  "https://schemas.openid.net/secevent/caep/event-type/credential-change";

export interface CredentialChange {
  readonly userId: string;
  readonly changeType: "create" | "delete";
  /** CAEP credential types: `fido2-platform`, `fido2-roaming`, `password`. */
  readonly credentialType: string;
  readonly friendlyName?: string;
}

/** Announces credential changes to the services that follow the feed (and to nobody without one). */
export interface CredentialChangeFeed {
  announce(change: CredentialChange): Promise<void>;
}

/** One signed SET for a credential change; the subject is the account (`iss_sub`, as tokens' `sub`). */
export function signCredentialChange(signer: SecurityEventSigner, change: CredentialChange): Promise<string> {
  const now = epochSeconds(signer.clock.now());
  const { kid, alg, key } = signer.keys.signingKey();
  return new SignJWT({
    jti: randomBytes(16).toString("base64url"),
    sub_id: { format: "iss_sub", iss: signer.issuer, sub: change.userId },
    events: {
      [CREDENTIAL_CHANGE_EVENT]: {
        event_timestamp: now,
        change_type: change.changeType,
        credential_type: change.credentialType,
        ...(change.friendlyName ? { friendly_name: change.friendlyName } : {}),
      },
    },
  })
    .setProtectedHeader({ alg, kid, typ: SET_TYP })
    .setIssuer(signer.issuer)
    .setAudience(signer.audience)
    .setIssuedAt(now)
    .sign(key);
}

export interface SecurityEventSink {
  publish(set: string): Promise<void>;
}

/**
 * The revocation bus, plus a copy of each revocation as a signed SET on the shared feed that other
 * services (holdfast/resource-server, or any Shared Signals receiver) subscribe to. The instance that
 * revokes publishes; a feed failure is reported, never allowed to undo or delay the revocation itself.
 */
export function withSecurityEventFeed(
  bus: RevocationBus,
  signer: SecurityEventSigner,
  sink: SecurityEventSink,
  onError: (error: unknown) => void,
): RevocationBus {
  return {
    async publish(revocations) {
      // Side by side: a slow feed (Redis hanging until its command timeout) must not add to the bus's wait.
      await Promise.all([
        bus.publish(revocations),
        ...revocations.map((r) =>
          signSessionRevoked(signer, r)
            .then((set) => sink.publish(set))
            .catch(onError),
        ),
      ]);
    },
    subscribe: (listener) => bus.subscribe(listener),
    close: () => bus.close(),
  };
}
