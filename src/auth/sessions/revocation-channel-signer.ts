import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/**
 * Outside production without REVOCATION_CHANNEL_SECRET the channel is signed with this public
 * value (the config refuses it in production): messages keep one format, and it protects nothing.
 */
const DEVELOPMENT_SECRET = "holdfast development revocation channel (public, not a secret)";

/** What a message on the channel is; part of what is signed, so one kind cannot pass for another. */
export type ChannelMessageKind = "heartbeat" | "revocations";

/**
 * HMAC-SHA-256 over the messages of Holdfast's own revocation channel, under a key every instance
 * derives from the shared secret. The channel name is the HKDF salt, so a message signed for one
 * deployment (REDIS_KEY_PREFIX) is refused on another that happens to share the secret.
 */
export class RevocationChannelSigner {
  private readonly key: Buffer;

  constructor(secret: string | null, channel: string) {
    this.key = Buffer.from(
      hkdfSync("sha256", secret ?? DEVELOPMENT_SECRET, channel, "holdfast revocation channel v1", 32),
    );
  }

  sign(kind: ChannelMessageKind, body: string): string {
    return createHmac("sha256", this.key).update(`${kind}\n${body}`).digest("base64url");
  }

  verify(kind: ChannelMessageKind, body: string, mac: unknown): boolean {
    if (typeof mac !== "string") return false;
    const expected = Buffer.from(this.sign(kind, body));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
