/**
 * True when `text` is one JSON object with no repeated member name at any depth (names compared
 * after unescaping, so "sub" and "\u0073ub" are the same) and nesting no deeper than `maxDepth`.
 *
 * JSON.parse keeps the last of two equal names while other parsers keep the first; RFC 7515 §5.2
 * and RFC 7519 §4 let a recipient reject such input, and we do, so no two readers of one token
 * can disagree about its claims.
 */
export function isStrictJsonObject(text: string, maxDepth = 16): boolean {
  let i = 0;
  const n = text.length;
  const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      i++;
    }
  };

  const string = (): string | undefined => {
    const start = i++;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        if (!escaped) return text.slice(start + 1, i - 1);
        // Only strings with escapes need decoding (and checking) by JSON.parse.
        try {
          return JSON.parse(text.slice(start, i)) as string;
        } catch {
          return undefined;
        }
      }
      if (c < 0x20) return undefined;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
      } else {
        i++;
      }
    }
    return undefined;
  };

  const value = (depth: number): boolean => {
    if (depth > maxDepth) return false;
    skipSpace();
    const c = text[i];
    if (c === "{") return object(depth + 1);
    if (c === "[") return array(depth + 1);
    if (c === '"') return string() !== undefined;
    LITERAL.lastIndex = i;
    if (!LITERAL.test(text)) return false;
    i = LITERAL.lastIndex;
    return true;
  };

  const object = (depth: number): boolean => {
    i++;
    const names = new Set<string>();
    skipSpace();
    if (text[i] === "}") {
      i++;
      return true;
    }
    for (;;) {
      skipSpace();
      if (text[i] !== '"') return false;
      const name = string();
      if (name === undefined || names.has(name)) return false;
      names.add(name);
      skipSpace();
      if (text[i++] !== ":") return false;
      if (!value(depth)) return false;
      skipSpace();
      const next = text[i++];
      if (next === "}") return true;
      if (next !== ",") return false;
    }
  };

  const array = (depth: number): boolean => {
    i++;
    skipSpace();
    if (text[i] === "]") {
      i++;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      skipSpace();
      const next = text[i++];
      if (next === "]") return true;
      if (next !== ",") return false;
    }
  };

  skipSpace();
  if (text[i] !== "{" || !object(1)) return false;
  skipSpace();
  return i === n;
}
