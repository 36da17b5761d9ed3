import { BadUserInputError } from "../errors/app-error.js";

// Code points no name or address needs, each a known trick: controls (NUL, BEL; Cc), invisible
// formatting (zero-width space, RTL override; Cf), lone surrogates (Cs: not text at all, and not
// storable), private use (Co), unassigned (Cn), and line/paragraph separators (Zl, Zp).
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/** True when `value` holds no unsafe code point (and no lone surrogate). */
export function isSafeText(value: string): boolean {
  return !UNSAFE.test(value);
}

/**
 * Unicode NFKC (UAX #15): look-alike encodings of one name collapse to one form (NFD "é" is NFC
 * "é"; fullwidth "Ａ" is "A"), so two accounts cannot differ only in invisible encoding choices.
 */
export function toNfkc(value: string): string {
  return value.normalize("NFKC");
}

const SCRIPTS = ["Latin", "Greek", "Cyrillic", "Armenian", "Cherokee"] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((script) => new RegExp(`\\p{Script=${script}}`, "u"));

/**
 * True when letters of more than one of the scripts whose letters look alike (Latin, Greek,
 * Cyrillic, Armenian, Cherokee) are mixed in one string: "Аdmin" with a Cyrillic "А". A UTS #39
 * §5.2 "highly restrictive" check cut down to the scripts that confuse with each other.
 */
export function mixesConfusableScripts(value: string): boolean {
  let found = 0;
  for (const pattern of SCRIPT_PATTERNS) if (pattern.test(value)) found += 1;
  return found > 1;
}

/** A display name or label: NFKC, trimmed, safe code points, one script family, 1…max characters. */
export function cleanName(value: string, field: string, maxLength: number): string {
  if (!isSafeText(value)) {
    throw new BadUserInputError(`invalid_${snake(field)}`, "Contains control or invisible characters", field);
  }
  const name = toNfkc(value).trim();
  if (mixesConfusableScripts(name)) {
    throw new BadUserInputError(`invalid_${snake(field)}`, "Mixes look-alike scripts", field);
  }
  const length = [...name].length;
  if (length < 1 || length > maxLength) {
    throw new BadUserInputError(`invalid_${snake(field)}`, `Must be 1 to ${maxLength} characters`, field);
  }
  return name;
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
