/** Scratch files for tests that run the CLI on manifests, and a file system filled up for the full-disk tests. */
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
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

/** Writes zeros to a new file at `path` until its file system is full (ENOSPC); the file stays, to be deleted to free the space. */
export function fillFileSystem(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(4096));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}
