import { BadUserInputError } from "./errors/app-error.js";

export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  readonly edges: { cursor: string; node: T }[];
  readonly pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Checks `first` against the schema's cap and decodes `after`: both are caller input. */
export function pageArgs(first: number | null | undefined, after: string | null | undefined) {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError("invalid_page_size", `first must be between 1 and ${MAX_PAGE_SIZE}`, "first");
  }
  return { first: size, after: after == null ? null : decodeCursor(after) };
}

export function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const id = cursor.length <= 200 ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id))
    throw new BadUserInputError("invalid_cursor", "after is not a valid cursor", "after");
  return id;
}

/** Builds a page from `first + 1` rows fetched in order: the extra row only says there is more. */
export function toPage<T extends { id: string }>(rows: readonly T[], first: number): Page<T> {
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return {
    edges: nodes.map((node) => ({ cursor: encodeCursor(node.id), node })),
    pageInfo: { hasNextPage: rows.length > first, endCursor: last ? encodeCursor(last.id) : null },
  };
}
