// A WebAuthn authenticator in software, for tests: ES256 (P-256) keys from node:crypto, attestation
// "none", discoverable credentials with user verification. Every part of what it sends can be
// overridden (origin, RP ID, challenge, counter, flags, user handle) so tests can forge the cases a
// relying party must refuse. Written from WebAuthn §6.1 (authenticator data), §6.5.4 (attestation
// object) and §7 (the checks it is meant to fail), not with the library under test.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

// --- a CBOR encoder (RFC 8949) for the few shapes WebAuthn needs: ints, bytes, text, maps ---

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

export function cbor(value: Cbor): Buffer {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const text = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const parts: Buffer[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return Buffer.concat(parts);
}

// Authenticator data flags (WebAuthn §6.1).
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

interface Credential {
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly cosePublicKey: Buffer;
  readonly rpId: string;
  readonly userHandle: string;
  counter: number;
}

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  flags?: number;
  /** The signature counter to report (default: one more than last time). */
  counter?: number;
  userHandle?: string;
  /** Sign with another credential's key while naming this one. */
  signWith?: string;
}

/** WebAuthn JSON options as the server sends them (the parts this authenticator reads). */
interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export class SoftwareAuthenticator {
  readonly #credentials = new Map<string, Credential>();

  constructor(
    readonly origin: string,
    /** Report backup-eligible and backed-up (a synced passkey). */
    readonly synced = false,
  ) {}

  get credentialIds(): string[] {
    return [...this.#credentials.keys()];
  }

  /** navigator.credentials.create: a new ES256 credential; RegistrationResponseJSON. */
  register(options: CreationOptions, overrides: CeremonyOverrides = {}) {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    // COSE_Key (RFC 9053 §7.1.1): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    const cosePublicKey = cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, "base64url")],
        [-3, Buffer.from(jwk.y!, "base64url")],
      ]),
    );
    const id = b64url(randomBytes(16));
    const credential: Credential = {
      id,
      privateKey,
      cosePublicKey,
      rpId,
      userHandle: options.user.id,
      counter: 0,
    };
    const idBytes = Buffer.from(id, "base64url");
    const length = Buffer.alloc(2);
    length.writeUInt16BE(idBytes.length);
    const flags = overrides.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT | this.#backupFlags();
    const authData = Buffer.concat([
      this.#rpIdHash(rpId),
      Buffer.from([flags]),
      this.#counterBytes(overrides.counter ?? 0),
      Buffer.alloc(16), // AAGUID: zeros with attestation "none"
      length,
      idBytes,
      cosePublicKey,
    ]);
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    this.#credentials.set(id, credential);
    return {
      id,
      rawId: id,
      type: "public-key",
      response: {
        clientDataJSON: this.#clientData("webauthn.create", options.challenge, overrides),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get with a discoverable credential; AuthenticationResponseJSON. */
  assert(options: RequestOptions, credentialId = this.credentialIds[0], overrides: CeremonyOverrides = {}) {
    const credential = credentialId ? this.#credentials.get(credentialId) : undefined;
    if (!credential) throw new Error("no such credential on this authenticator");
    const rpId = overrides.rpId ?? options.rpId ?? credential.rpId;
    const counter = overrides.counter ?? credential.counter + 1;
    credential.counter = Math.max(credential.counter, counter);
    const flags = overrides.flags ?? FLAGS.UP | FLAGS.UV | this.#backupFlags();
    const authData = Buffer.concat([this.#rpIdHash(rpId), Buffer.from([flags]), this.#counterBytes(counter)]);
    const clientDataJSON = this.#clientData("webauthn.get", options.challenge, overrides);
    const clientDataHash = createHash("sha256").update(Buffer.from(clientDataJSON, "base64url")).digest();
    const signer = overrides.signWith ? this.#credentials.get(overrides.signWith) : credential;
    if (!signer) throw new Error("no such signing credential");
    // ES256 over authenticatorData || SHA-256(clientDataJSON), DER-encoded (WebAuthn §6.3.3).
    const signature = sign("sha256", Buffer.concat([authData, clientDataHash]), signer.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: overrides.userHandle ?? credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  #backupFlags(): number {
    return this.synced ? FLAGS.BE | FLAGS.BS : 0;
  }

  #rpIdHash(rpId: string): Buffer {
    return createHash("sha256").update(rpId).digest();
  }

  #counterBytes(counter: number): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(counter);
    return bytes;
  }

  #clientData(type: string, challenge: string, overrides: CeremonyOverrides): string {
    return b64url(
      JSON.stringify({
        type: overrides.type ?? type,
        challenge: overrides.challenge ?? challenge,
        origin: overrides.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }
}
