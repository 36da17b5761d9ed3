import { BadUserInputError, UnauthenticatedError } from "../errors/app-error.js";
import type { UserModel } from "../users/user-model.js";
import type { UserService } from "../users/user-service.js";
import type { AuditLog } from "./audit-log.js";
import type { ClientInfo } from "./auth-payload.js";
import type { PasswordHasher } from "./passwords.js";
import type { AuthLimits } from "./rate-limit.js";

/** What proving a credential needs from passkeys: whose credential signed an assertion. */
export interface PasskeyAssertions {
  /** Verifies an assertion against a single-use challenge; resolves to the credential's owner. */
  verifyAssertion(response: unknown, client: ClientInfo): Promise<{ userId: string }>;
}

/** How a caller proves themself again: their password, or a passkey assertion. */
export type Reauthentication = { password: string } | { passkey: unknown };

/**
 * Checks that the caller holds one of the account's credentials, now. A token (even a fresh one)
 * proves a sign-in happened, not who holds the token: adding a way to sign in asks for this.
 */
export class CredentialProof {
  constructor(
    private readonly deps: {
      users: UserService;
      passwords: PasswordHasher;
      audit: AuditLog;
      limits: AuthLimits;
      passkeys?: PasskeyAssertions;
    },
  ) {}

  /**
   * Checks `password` against the user's, counted by the same per-account and per-client limits
   * as `login`: a stolen token must not turn an account action into an unlimited guessing oracle.
   */
  async checkPassword(
    user: UserModel,
    password: string,
    client: ClientInfo,
    refusal: (message: string) => Error,
  ): Promise<void> {
    const attempt = await this.deps.limits.beginLogin(user.email, client.ip);
    let right = false;
    try {
      const hash = await this.deps.users.passwordHash(user.id);
      const tooLong = Buffer.byteLength(password, "utf8") > 1024;
      right = hash !== null && !tooLong && (await this.deps.passwords.verify(hash, password));
    } catch (error) {
      await attempt.abandoned();
      throw error;
    }
    if (!right) {
      await attempt.failed();
      await this.deps.audit.record({
        type: "reauthentication.failed",
        userId: user.id,
        client,
        detail: { reason: "invalid_password" },
      });
      throw refusal("Password is not correct");
    }
    await attempt.succeeded();
  }

  /**
   * The proof an operation that adds a credential needs: the current password or an assertion of
   * one of the user's own passkeys. A refusal is BAD_USER_INPUT on the argument: the session stays.
   */
  async proveHolder(user: UserModel, proof: Reauthentication | null, client: ClientInfo): Promise<void> {
    if (!proof) {
      throw new BadUserInputError(
        "credential_proof_required",
        "Give the current password or an assertion of one of your passkeys",
        "currentPassword",
      );
    }
    if ("password" in proof) {
      await this.checkPassword(
        user,
        proof.password,
        client,
        (message) => new BadUserInputError("invalid_current_password", message, "currentPassword"),
      );
      return;
    }
    const refused = () =>
      new BadUserInputError("invalid_passkey_assertion", "Passkey not recognised", "passkeyAssertion");
    const owner = await this.passkeys()
      .verifyAssertion(proof.passkey, client)
      .catch((error: unknown) => {
        if (error instanceof UnauthenticatedError) return null;
        throw error;
      });
    if (owner?.userId !== user.id) {
      if (owner) {
        await this.deps.audit.record({
          type: "reauthentication.failed",
          userId: user.id,
          client,
          detail: { reason: "passkey_of_another_user" },
        });
      }
      // The same answer for another user's passkey as for an unknown one.
      throw refused();
    }
  }

  passkeys(): PasskeyAssertions {
    if (!this.deps.passkeys) throw new Error("passkeys are not configured");
    return this.deps.passkeys;
  }
}
