/**
 * DecisionLogFile on its own: a file that cannot be written (`/dev/full`
 * answers every write with ENOSPC, root or not) never throws into the caller,
 * keeps a bounded buffer, counts each record it drops, prints one stderr line
 * per cause however often it retries, and never holds a flush past its
 * timeout; a reopen that fails keeps the old file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionLogFile } from '../../../src/server/decision-log-file.js';
import { fillFileSystem } from '../../helpers/files.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A 100-byte line numbered `i`. */
const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(80) }).padEnd(99)}\n`;

function fileOn(path: string, maxBufferBytes = 1000) {
  const warnings: string[] = [];
  let dropped = 0;
  const file = new DecisionLogFile({ path, maxBufferBytes, retryMs: 10, onDrop: (n) => (dropped += n), warn: (l) => warnings.push(l) });
  return { file, warnings, dropped: () => dropped };
}

async function until(what: string, fn: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !fn(); await sleep(5)) if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
}

describe('DecisionLogFile', () => {
  it('on ENOSPC: never throws, buffers up to its bound, counts every record it drops, one stderr line per cause', async () => {
    const { file, warnings, dropped } = fileOn('/dev/full');
    for (let i = 0; i < 100; i++) file.write(line(i));
    // Many retries (every 10 ms) of the same cause print one line.
    await sleep(300);
    assert.equal(file.healthy(), false);
    assert.equal(dropped(), 90, 'the buffer holds 1000 bytes: 10 lines; the other 90 are dropped');
    assert.equal(warnings.length, 1, warnings.join(''));
    assert.match(warnings[0]!, /^remote-cluster-guard: decision log \/dev\/full: write failed: ENOSPC.*retrying every 10 ms\n$/);

    const started = performance.now();
    assert.equal(await file.flushWithin(100), false, 'the flush gives up at its timeout');
    await file.close(100);
    assert.ok(performance.now() - started < 2_000, 'flush and close are bounded by their timeouts');
    assert.equal(dropped(), 100, 'the lines left at close are counted too: every record written is counted as dropped');
    file.write(line(100));
    assert.equal(dropped(), 101, 'after close, a record is dropped and counted');
  });

  it('a disk that fills and frees again and again: one failure line and one recovery line per interval, not per cycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcg-dlf-flap-'));
    // 64 KiB of tmpfs (root, as CI runs).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    const { file, warnings, dropped } = fileOn(join(dir, 'decisions.jsonl'), 1 << 20);
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        fillFileSystem(join(dir, 'filler'));
        // Longer than a page, so that it needs space the file does not have yet.
        file.write(`${'x'.repeat(5000)}\n`);
        await until('the write to fail', () => !file.healthy());
        rmSync(join(dir, 'filler'));
        await until('the write to succeed', () => file.healthy() && file.pendingBytes === 0);
      }
      assert.equal(dropped(), 0);
      assert.equal(warnings.length, 2, warnings.join(''));
      assert.match(warnings[0]!, /write failed: ENOSPC/);
      assert.match(warnings[1]!, /writing again after "write ENOSPC"; 0 records dropped/);
    } finally {
      await file.close(1000);
      execFileSync('umount', [dir]);
    }
  });

  it('writes every line whole and in order; flush resolves once they are on disk', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rcg-dlf-')), 'sub', 'decisions.jsonl');
    const { file, warnings, dropped } = fileOn(path, 1 << 20);
    for (let i = 0; i < 2000; i++) file.write(line(i));
    assert.equal(await file.flushWithin(10_000), true);
    await file.close(1000);
    const lines = readFileSync(path, 'utf-8').split('\n').filter(Boolean);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { i: number }).i),
      Array.from({ length: 2000 }, (_, i) => i),
    );
    assert.equal(dropped(), 0);
    assert.deepEqual(warnings, []);
  });

  it('a reopen that cannot open the path (its directory replaced by a file) keeps writing to the old file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rcg-dlf-'));
    const dir = join(root, 'logs');
    mkdirSync(dir);
    const path = join(dir, 'decisions.jsonl');
    const { file, warnings, dropped } = fileOn(path);
    file.write(line(1));
    assert.equal(await file.flushWithin(5000), true);
    // The directory moves away (the open file with it) and a regular file takes its name.
    renameSync(dir, join(root, 'moved'));
    writeFileSync(dir, 'not a directory');
    assert.equal(await file.reopen(), false);
    assert.equal(warnings.length, 1, warnings.join(''));
    assert.match(warnings[0]!, /reopen failed: .*(ENOTDIR|EEXIST).*writing on to the file opened before/);
    file.write(line(2));
    assert.equal(await file.flushWithin(5000), true);
    await file.close(1000);
    assert.deepEqual(
      readFileSync(join(root, 'moved', 'decisions.jsonl'), 'utf-8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { i: number }).i),
      [1, 2],
    );
    assert.equal(dropped(), 0);
    assert.equal(file.healthy(), true, 'a failed reopen with a working file is not a write failure');
  });
});
