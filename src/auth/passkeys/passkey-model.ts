/** A passkey as the API shows it: never its public key, counter or user handle. */
export interface PasskeyModel {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly deviceType: string;
  readonly backedUp: boolean;
}
