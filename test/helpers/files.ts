/** Scratch files for tests that run the CLI on manifests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDir {
  /** A fresh directory under the OS temporary directory. */
  dir: string;
  /** Writes `text` to `name` in `dir` (sub-directories must exist) and returns its path. */
  file(name: string, text: string | Buffer): string;
}

/** A fresh scratch directory named `rcg-<prefix>-…`. */
export function scratchDir(prefix: string): ScratchDir {
  const dir = mkdtempSync(join(tmpdir(), `rcg-${prefix}-`));
  return {
    dir,
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}
