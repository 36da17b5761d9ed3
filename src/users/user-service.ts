import type { Clock } from "../clock.js";
import type { DbWrite, Prisma } from "../db/database.js";
import { isUniqueViolation, withDatabase } from "../db/errors.js";
import { BadUserInputError } from "../errors/app-error.js";
import { newId } from "../ids.js";
import { type Page, pageArgs, toPage } from "../pagination.js";
import { cleanName, isSafeText, toNfkc } from "./text-hygiene.js";
import { toUserModel, type UserModel } from "./user-model.js";
import type { UserReads } from "./user-reads.js";

export interface NewUser {
  email: string;
  passwordHash: string;
  displayName: string;
  role?: "user" | "admin";
}

const PUBLIC = { id: true, email: true, displayName: true, role: true, createdAt: true } as const;

export const MAX_DISPLAY_NAME_LENGTH = 100;
// RFC 5321 §4.5.3.1.3 limits a path to 256 octets; this shape check is deliberately simple.
// Printable ASCII only: internationalised addresses (RFC 6531) are refused, and with them every
// homoglyph of an existing address (a Cyrillic "а" for a Latin "a").
const EMAIL = /^[\x21-\x3f\x41-\x7e]{1,64}@[\x21-\x3f\x41-\x7e]{1,255}\.[\x21-\x3f\x41-\x7e]{1,63}$/;

/**
 * The form an address is stored and compared in: NFKC, trimmed, lower-case, without the DNS root's
 * trailing dot (`example.com.` is the fully qualified `example.com`: one mailbox, one account).
 */
export function normalizeEmail(email: string): string {
  return toNfkc(email).trim().toLowerCase().replace(/\.+$/, "");
}

/** A normalised address: printable ASCII in the usual shape, no control or invisible characters. */
export function checkEmail(email: string): void {
  if (email.length > 254 || !isSafeText(email) || !EMAIL.test(email))
    throw new BadUserInputError("invalid_email", "Email is not valid", "email");
}

export class UserService {
  constructor(
    private readonly prisma: Prisma,
    private readonly clock: Clock,
    /** Prepared statements for the hot reads; without them, Prisma. */
    private readonly reads?: UserReads,
  ) {}

  async findById(id: string): Promise<UserModel | null> {
    const [row] = await this.findManyByIds([id]);
    return row ?? null;
  }

  async findManyByIds(ids: readonly string[]): Promise<(UserModel | null)[]> {
    const { reads } = this;
    const rows = await withDatabase(() =>
      reads
        ? reads.byIds(ids)
        : this.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: PUBLIC }),
    );
    const byId = new Map(rows.map((r) => [r.id, toUserModel(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** For login only: the one place the password hash leaves the database. */
  async findCredentials(email: string): Promise<(UserModel & { passwordHash: string }) | null> {
    // No stored address holds an unsafe code point; a lone surrogate would not even reach the driver.
    if (!isSafeText(email)) return null;
    const { reads } = this;
    const address = normalizeEmail(email);
    const row = await withDatabase(() =>
      reads
        ? reads.credentials(address)
        : this.prisma.user.findUnique({
            where: { email: address },
            select: { ...PUBLIC, passwordHash: true },
          }),
    );
    return row ? { ...toUserModel(row), passwordHash: row.passwordHash } : null;
  }

  async passwordHash(id: string): Promise<string | null> {
    const row = await withDatabase(() =>
      this.prisma.user.findUnique({ where: { id }, select: { passwordHash: true } }),
    );
    return row?.passwordHash ?? null;
  }

  async list(first: number | null | undefined, after: string | null | undefined): Promise<Page<UserModel>> {
    const args = pageArgs(first, after);
    const { reads } = this;
    const rows = await withDatabase(() =>
      reads
        ? reads.page(args.first + 1, args.after)
        : this.prisma.user.findMany({
            select: PUBLIC,
            orderBy: { id: "asc" },
            take: args.first + 1,
            ...(args.after ? { where: { id: { gt: args.after } } } : {}),
          }),
    );
    return toPage(rows.map(toUserModel), args.first);
  }

  /** Creates an account; the caller has checked the password policy and hashed it. */
  async create(input: NewUser): Promise<UserModel> {
    return this.createWith(input, () => []);
  }

  /**
   * Creates an account and, in the same transaction, whatever the caller must write with it
   * (registration starts a session): either all of it is committed or none.
   */
  async createWith(input: NewUser, alsoWrite: (user: UserModel) => DbWrite[]): Promise<UserModel> {
    if (!isSafeText(input.email)) throw new BadUserInputError("invalid_email", "Email is not valid", "email");
    const email = normalizeEmail(input.email);
    checkEmail(email);
    const displayName = cleanName(input.displayName, "displayName", MAX_DISPLAY_NAME_LENGTH);
    const now = this.clock.now();
    const user = toUserModel({
      id: newId(now),
      email,
      displayName,
      role: input.role ?? "user",
      createdAt: now,
    });
    try {
      await withDatabase(() =>
        this.prisma.$transaction([
          this.prisma.user.create({ data: { ...user, passwordHash: input.passwordHash } }),
          ...alsoWrite(user),
        ]),
      );
      return user;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new BadUserInputError("email_taken", "An account with this email already exists", "email");
      }
      throw error;
    }
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await withDatabase(() => this.prisma.user.update({ where: { id }, data: { passwordHash } }));
  }
}
