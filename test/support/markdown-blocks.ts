/** One fenced code block of a Markdown text. */
export interface FencedBlock {
  /** The line of the opening fence, 1-based. */
  readonly line: number;
  /** The info string: the language, then any words after it (`sh not-run`). */
  readonly info: string;
  readonly code: string;
}

/** The fenced blocks of `markdown` whose language is one of `languages`, in order. */
export function fencedBlocks(markdown: string, languages: readonly string[]): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  for (const match of markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    if (!languages.includes(match[1]!)) continue;
    const line = markdown.slice(0, match.index).split("\n").length;
    blocks.push({ line, info: `${match[1]}${match[2]}`.trim(), code: match[3]! });
  }
  return blocks;
}
