import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes `content` to a file `name` in a fresh temp directory, runs `use` on its path, then removes it. */
export function withTempFile(name: string, content: string, use: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-"));
  try {
    const file = join(dir, name);
    writeFileSync(file, content);
    use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
