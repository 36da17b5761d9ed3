import { randomBytes } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Clock } from "../../clock.js";
import type { Prisma } from "../../db/database.js";
import { isUniqueViolation, withDatabase } from "../../db/errors.js";
import { BadUserInputError, NotFoundError, UnauthenticatedError } from "../../errors/app-error.js";
import { cleanName } from "../../users/text-hygiene.js";
import type { UserModel } from "../../users/user-model.js";
import type { AuditLog } from "../audit-log.js";
import type { ClientInfo } from "../auth-payload.js";
import type { PasskeyAssertions } from "../credential-proof.js";
import type { CredentialChangeFeed } from "../sessions/security-event-feed.js";
import type { PasskeyModel } from "./passkey-model.js";
import type { RelyingParty } from "./relying-party.js";
import { CHALLENGE_TTL_SECONDS, type WebAuthnChallenges } from "./webauthn-challenges.js";

export const MAX_PASSKEY_NAME_LENGTH = 64;

// WebAuthn §5.8.5 COSE algorithms we accept: EdDSA and ES256 (what platform authenticators and
// security keys make), RS256 for older Windows Hello.
const ALGORITHMS = [-8, -7, -257];

interface PasskeyRow {
  id: string;
  userId: string;
  userHandle: string;
  publicKey: string;
  counter: number;
  transports: string | null;
  deviceType: string;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

function toModel(row: PasskeyRow): PasskeyModel {
  const { id, userId, name, createdAt, lastUsedAt, deviceType, backedUp } = row;
  return { id, userId, name, createdAt, lastUsedAt, deviceType, backedUp };
}

/** CAEP credential_type: a built-in authenticator (`internal`) is a platform one. */
function credentialTypeOf(transports: string | null): string {
  return transports?.split(",").includes("internal") ? "fido2-platform" : "fido2-roaming";
}

/** The challenge a response answers, from its clientDataJSON; null when it is not readable. */
function challengeOf(response: unknown): string | null {
  try {
    const data = (response as { response?: { clientDataJSON?: unknown } }).response?.clientDataJSON;
    if (typeof data !== "string" || data.length > 4096) return null;
    const parsed = JSON.parse(Buffer.from(data, "base64url").toString("utf8")) as { challenge?: unknown };
    return typeof parsed.challenge === "string" ? parsed.challenge : null;
  } catch {
    return null;
  }
}

/** The signature counter an assertion reports (authenticator data bytes 33–36, WebAuthn §6.1). */
function counterOf(response: AuthenticationResponseJSON): number | null {
  const data = Buffer.from(response.response.authenticatorData ?? "", "base64url");
  return data.length >= 37 ? data.readUInt32BE(33) : null;
}

function isResponseShape(value: unknown): value is { id: string; response: Record<string, unknown> } {
  if (typeof value !== "object" || value === null) return false;
  const { id, response, type } = value as Record<string, unknown>;
  return (
    typeof id === "string" &&
    /^[A-Za-z0-9_-]{1,1366}$/.test(id) &&
    type === "public-key" &&
    typeof response === "object" &&
    response !== null
  );
}

/**
 * Passkeys (WebAuthn Level 3 with @simplewebauthn/server): discoverable credentials, user
 * verification required, attestation not asked for. Challenges are single-use and short-lived
 * (WebAuthnChallenges); the RP ID and origin come from PUBLIC_URL (relyingPartyFor).
 */
export class PasskeyService implements PasskeyAssertions {
  constructor(
    private readonly deps: {
      prisma: Prisma;
      clock: Clock;
      audit: AuditLog;
      challenges: WebAuthnChallenges;
      relyingParty: RelyingParty;
      /** The CAEP feed: a new way into an account is announced to the services that follow it. */
      credentialChanges?: CredentialChangeFeed;
    },
  ) {}

  async list(userId: string): Promise<PasskeyModel[]> {
    const rows = await withDatabase(() =>
      this.deps.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: "desc" } }),
    );
    return rows.map(toModel);
  }

  /** Creation options for the user: a fresh challenge, their existing passkeys excluded. */
  async registrationOptions(user: UserModel): Promise<unknown> {
    const existing = await withDatabase(() =>
      this.deps.prisma.passkey.findMany({
        where: { userId: user.id },
        select: { id: true, userHandle: true, transports: true },
      }),
    );
    // One user handle per account (WebAuthn §14.6.1: random, no personal data), so an
    // authenticator replaces rather than piles up this account's credentials.
    const userHandle = existing[0]?.userHandle ?? randomBytes(32).toString("base64url");
    const challenge = await this.deps.challenges.create("registration", { userId: user.id, userHandle });
    const { relyingParty } = this.deps;
    return generateRegistrationOptions({
      rpName: relyingParty.name,
      rpID: relyingParty.id,
      userName: user.email,
      userDisplayName: user.displayName,
      userID: Buffer.from(userHandle, "base64url"),
      // Bytes, so the options carry our base64url string as is (a string would be encoded again).
      challenge: Buffer.from(challenge, "base64url"),
      timeout: CHALLENGE_TTL_SECONDS * 1000,
      attestationType: "none",
      excludeCredentials: existing.map((p) => ({
        id: p.id,
        ...(p.transports ? { transports: p.transports.split(",") } : {}),
      })) as never,
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      supportedAlgorithmIDs: ALGORITHMS,
    });
  }

  /** Registers the credential of a registration response to the user who asked for its challenge. */
  async add(user: UserModel, response: unknown, name: string | null | undefined, client: ClientInfo) {
    const label = cleanName(name ?? "Passkey", "name", MAX_PASSKEY_NAME_LENGTH);
    const challenge = challengeOf(response);
    const consumed = challenge ? await this.deps.challenges.consume(challenge, "registration") : null;
    if (!consumed || consumed.userId !== user.id || !consumed.userHandle) {
      throw new BadUserInputError(
        "invalid_passkey_challenge",
        "Unknown, used or expired challenge: ask for new options",
        "response",
      );
    }
    const { relyingParty } = this.deps;
    let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>["registrationInfo"];
    try {
      if (!isResponseShape(response)) throw new Error("malformed response");
      const verified = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: consumed.challenge,
        expectedOrigin: [...relyingParty.origins],
        expectedRPID: relyingParty.id,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!verified.verified) throw new Error("not verified");
      info = verified.registrationInfo;
    } catch (error) {
      await this.failed(user.id, client, "registration", error);
      throw new BadUserInputError(
        "invalid_passkey_registration",
        "The passkey could not be verified",
        "response",
      );
    }
    const now = this.deps.clock.now();
    try {
      const row = await withDatabase(() =>
        this.deps.prisma.passkey.create({
          data: {
            id: info.credential.id,
            userId: user.id,
            userHandle: consumed.userHandle!,
            publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
            counter: info.credential.counter,
            transports: info.credential.transports?.join(",") ?? null,
            deviceType: info.credentialDeviceType,
            backedUp: info.credentialBackedUp,
            name: label,
            createdAt: now,
          },
        }),
      );
      await this.deps.audit.record({
        type: "passkey.added",
        userId: user.id,
        client,
        detail: { deviceType: row.deviceType, backedUp: row.backedUp },
      });
      await this.deps.credentialChanges?.announce({
        userId: user.id,
        changeType: "create",
        credentialType: credentialTypeOf(row.transports),
        friendlyName: row.name,
      });
      return toModel(row);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new BadUserInputError(
          "passkey_already_registered",
          "This passkey is already registered",
          "response",
        );
      }
      throw error;
    }
  }

  /** Request options for a sign-in or a reauthentication: any discoverable credential of ours. */
  async signInOptions(): Promise<unknown> {
    const challenge = await this.deps.challenges.create("authentication");
    return generateAuthenticationOptions({
      rpID: this.deps.relyingParty.id,
      challenge: Buffer.from(challenge, "base64url"),
      timeout: CHALLENGE_TTL_SECONDS * 1000,
      userVerification: "required",
    });
  }

  /**
   * WebAuthn §7.2 with a single-use challenge: the credential must be registered, the user handle
   * the authenticator returns must be its account's, origin and RP ID ours, user verified, and the
   * signature counter must move forward (a counter going back suggests a cloned authenticator).
   */
  async verifyAssertion(response: unknown, client: ClientInfo): Promise<{ userId: string }> {
    const challenge = challengeOf(response);
    // Consumed before anything else is checked: a failed attempt cannot try the challenge again.
    const consumed = challenge ? await this.deps.challenges.consume(challenge, "authentication") : null;
    if (!consumed) {
      throw new UnauthenticatedError(
        "invalid_passkey_challenge",
        "Unknown, used or expired challenge: ask for new options",
      );
    }
    if (!isResponseShape(response))
      throw new UnauthenticatedError("invalid_passkey", "Passkey not recognised");
    const assertion = response as unknown as AuthenticationResponseJSON;
    const row = await withDatabase(() =>
      this.deps.prisma.passkey.findUnique({ where: { id: assertion.id } }),
    );
    const userHandle = assertion.response.userHandle;
    if (!row || typeof userHandle !== "string" || userHandle !== row.userHandle) {
      await this.failed(row?.userId ?? null, client, "unknown_credential_or_user", null);
      throw new UnauthenticatedError("invalid_passkey", "Passkey not recognised");
    }
    const { relyingParty } = this.deps;
    let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>["authenticationInfo"];
    try {
      const verified = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: consumed.challenge,
        expectedOrigin: [...relyingParty.origins],
        expectedRPID: relyingParty.id,
        credential: {
          id: row.id,
          publicKey: Buffer.from(row.publicKey, "base64url"),
          counter: row.counter,
          ...(row.transports ? { transports: row.transports.split(",") } : {}),
        } as never,
        requireUserVerification: true,
      });
      if (!verified.verified) throw new Error("not verified");
      result = verified.authenticationInfo;
    } catch (error) {
      const reported = counterOf(assertion);
      const regressed = reported !== null && (reported > 0 || row.counter > 0) && reported <= row.counter;
      await this.failed(row.userId, client, regressed ? "counter_regressed" : "assertion", error);
      if (regressed) {
        throw new UnauthenticatedError(
          "passkey_counter_regressed",
          "This passkey's signature counter went back: it may have been cloned",
        );
      }
      throw new UnauthenticatedError("invalid_passkey", "Passkey not recognised");
    }
    // Compare-and-set on the counter: of two assertions racing with one counter value, one wins.
    const updated = await withDatabase(() =>
      this.deps.prisma.passkey.updateMany({
        where: { id: row.id, counter: row.counter },
        data: {
          counter: result.newCounter,
          backedUp: result.credentialBackedUp,
          deviceType: result.credentialDeviceType,
          lastUsedAt: this.deps.clock.now(),
        },
      }),
    );
    if (updated.count !== 1) {
      await this.failed(row.userId, client, "counter_regressed", null);
      throw new UnauthenticatedError(
        "passkey_counter_regressed",
        "This passkey's signature counter went back: it may have been cloned",
      );
    }
    return { userId: row.userId };
  }

  async remove(userId: string, id: string, client: ClientInfo): Promise<boolean> {
    const found = await withDatabase(() =>
      this.deps.prisma.passkey.findFirst({ where: { id, userId }, select: { transports: true } }),
    );
    const removed = await withDatabase(() => this.deps.prisma.passkey.deleteMany({ where: { id, userId } }));
    // Another user's passkey is "not found": its existence is not disclosed.
    if (removed.count !== 1) throw new NotFoundError("Passkey not found");
    await this.deps.audit.record({ type: "passkey.removed", userId, client });
    await this.deps.credentialChanges?.announce({
      userId,
      changeType: "delete",
      credentialType: credentialTypeOf(found?.transports ?? null),
    });
    return true;
  }

  /**
   * Removes the passkeys the user added in the last `days` days: the recovery for a copied token
   * that planted one (offered by changePassword and logoutEverywhere). Answers how many went.
   */
  async removeAddedWithin(userId: string, days: number, client: ClientInfo): Promise<number> {
    const since = new Date(this.deps.clock.now().getTime() - days * 86_400_000);
    const recent = await withDatabase(() =>
      this.deps.prisma.passkey.findMany({
        where: { userId, createdAt: { gte: since } },
        select: { id: true, transports: true },
      }),
    );
    if (recent.length === 0) return 0;
    await withDatabase(() =>
      this.deps.prisma.passkey.deleteMany({ where: { userId, id: { in: recent.map((p) => p.id) } } }),
    );
    for (const passkey of recent) {
      await this.deps.audit.record({
        type: "passkey.removed",
        userId,
        client,
        detail: { reason: "added_recently", withinDays: days },
      });
      await this.deps.credentialChanges?.announce({
        userId,
        changeType: "delete",
        credentialType: credentialTypeOf(passkey.transports),
      });
    }
    return recent.length;
  }

  private async failed(userId: string | null, client: ClientInfo, step: string, error: unknown) {
    await this.deps.audit.record({
      type: "passkey.failed",
      userId,
      client,
      detail: { step, ...(error instanceof Error ? { error: error.message.slice(0, 200) } : {}) },
    });
  }
}
