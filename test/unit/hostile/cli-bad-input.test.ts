/**
 * Input that is no manifest, through the real CLI: binary files, files too
 * large to parse, YAML alias bombs, documents that are not Kubernetes
 * objects, unreadable paths, symlink loops and FIFOs in a directory walk.
 * Each ends with one `error:` line and exit 2, or is skipped with one
 * `warning:` line per skipped thing while the rest is checked; never a stack
 * trace, and never much slower than checking a one-object file (a control run
 * measured first: the machine is shared, so times are compared, not fixed).
 * What manifests-hostile.test.ts covers (syntax errors, deep nesting, hostile
 * names, an alias-heavy stdin) is not repeated.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MAX_FILE_BYTES, MAX_YAML_BYTES } from '../../../src/state/manifests.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/files.js';
import { assertOneLine } from './support.js';

const { dir, file: write } = scratchDir('bad-input');
after(() => rmSync(dir, { recursive: true, force: true }));

const pool = (name: string, cidr: string) =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, blockSize: 26}\n`;

/** Time of a run on a one-object file, the yardstick for every case. */
let controlMs = 0;
async function timed(args: string[]): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const r = await runCli(args);
  return { ...r, ms: Date.now() - started };
}
function assertInTime(r: { ms: number }): void {
  const limit = 2 * controlMs + 10_000;
  assert.ok(r.ms <= limit, `answered in ${r.ms} ms, at most ${limit} ms (control run: ${controlMs} ms)`);
}

/** Exit 2, nothing on stdout, and exactly one `error:` line on stderr matching `message`. */
function assertOneError(r: CliResult & { ms: number }, message: RegExp): void {
  assert.equal(r.code, 2, `exit 2: ${r.code} ${r.stderr.slice(0, 500)}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: [^\n]+\n$/, 'one error line');
  assertOneLine(r.stderr.trimEnd(), 'error');
  assert.match(r.stderr, message);
  assertInTime(r);
}

/** The given exit code, the summary on stdout, and one `warning:` line per expected note (in order) on stderr. */
function assertNotes(r: CliResult & { ms: number }, code: number, checked: number, notes: RegExp[]): void {
  assert.equal(r.code, code, `exit ${code}: ${r.code} ${r.stderr.slice(0, 500)}`);
  assert.match(r.stdout, new RegExp(`^${checked} objects checked: `, 'm'));
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, notes.length, `one warning per skipped thing:\n${r.stderr}`);
  lines.forEach((line, i) => {
    assert.match(line, /^warning: /);
    assertOneLine(line, 'warning');
    assert.match(line, notes[i]!);
  });
  assertInTime(r);
}

describe('validate on bad input', () => {
  before(async () => {
    const r = await timed(['validate', write('control.yaml', pool('control', '10.1.0.0/16'))]);
    assert.equal(r.code, 0, r.stderr);
    controlMs = r.ms;
  });

  it('a binary file: exit 2, "not a text file"', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.alloc(4000, 7)]);
    const r = await timed(['validate', write('logo.yaml', png)]);
    assertOneError(r, /logo\.yaml: not a text file \(a NUL byte at offset 8\)/);
  });

  it('a 50 MB YAML file: exit 2 at once (over the YAML limit) instead of minutes of parsing', async () => {
    const doc = pool('p', '10.2.0.0/16');
    const p = write('huge.yaml', `${doc}---\n`.repeat(Math.ceil(50e6 / (doc.length + 4))));
    assert.ok(MAX_YAML_BYTES < 50e6);
    const r = await timed(['validate', p]);
    assertOneError(r, /huge\.yaml: 4\d\.\d MiB of YAML, over the 8\.0 MiB limit for YAML/);
  });

  it('a file over the file limit (sparse, 65 MiB): exit 2 before reading it', async () => {
    const p = write('sparse.json', '');
    truncateSync(p, MAX_FILE_BYTES + 1024 * 1024);
    const r = await timed(['validate', p]);
    assertOneError(r, /sparse\.json: 65\.0 MiB, over the 64\.0 MiB limit for one file/);
  });

  it('a YAML alias bomb (a billion laughs): exit 2 naming the file and line', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const p = write(
      'bomb.yaml',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n`,
    );
    const r = await timed(['validate', p]);
    assertOneError(r, /bomb\.yaml:1: cannot read document: .*alias/i);
  });

  it('documents that are not Kubernetes objects: skipped with one warning each, the rest checked', async () => {
    const p = write(
      'mixed.yaml',
      [
        'just a scalar',
        '- a\n- list',
        'kind: IPPool\nmetadata: {name: no-api-version}',
        'apiVersion: v1\nmetadata: {name: no-kind}',
        'apiVersion: v1\nkind: List\nitems:\n  - 42\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: fine}}',
        pool('overlap-a', '10.3.0.0/16'),
        pool('overlap-b', '10.3.128.0/17'),
      ].join('\n---\n'),
    );
    const r = await timed(['validate', p]);
    // The two overlapping pools are denied: the skipped documents do not hide the rest.
    assertNotes(r, 1, 2, [
      /mixed\.yaml:1: skipped: not a Kubernetes object \(a string\)$/,
      /mixed\.yaml:3: skipped: not a Kubernetes object \(a list\)$/,
      /mixed\.yaml:6: skipped: not a Kubernetes object \(no apiVersion\)$/,
      /mixed\.yaml:9: skipped: not a Kubernetes object \(no kind\)$/,
      /mixed\.yaml:15: skipped: not a Kubernetes object \(a number\)$/,
    ]);
  });

  it('only documents that are not objects: exit 0, a warning each, 0 objects checked', async () => {
    const r = await timed(['validate', write('notes.json', '[1, 2, 3]')]);
    assertNotes(r, 0, 0, [/notes\.json:1: skipped: not a Kubernetes object \(a list\)$/]);
  });

  it('symlink loops, a second link to a directory, a FIFO and a dangling link in a walk: skipped with a warning each', async () => {
    const root = join(dir, 'gitops');
    mkdirSync(join(root, 'apps', 'pools'), { recursive: true });
    writeFileSync(join(root, 'apps', 'pools', 'pool.yaml'), pool('walked', '10.4.0.0/16'));
    symlinkSync('../..', join(root, 'apps', 'pools', 'up')); // → gitops: a loop
    symlinkSync('apps', join(root, 'link-to-apps')); // the same directory by a second name
    symlinkSync('self.yaml', join(root, 'self.yaml')); // a file link to itself
    symlinkSync('missing.yaml', join(root, 'dangling.yaml'));
    execFileSync('mkfifo', [join(root, 'pipe.yaml')]); // reading it would block forever
    const r = await timed(['validate', root]);
    assertNotes(r, 0, 1, [
      /gitops\/apps\/pools\/up: skipped: the same directory as .*gitops \(a symlink loop/,
      /gitops\/dangling\.yaml: skipped: no such file or directory$/,
      /gitops\/link-to-apps: skipped: the same directory as .*gitops\/apps /,
      /gitops\/pipe\.yaml: skipped: not a regular file$/,
      /gitops\/self\.yaml: skipped: symlink loop \(ELOOP\)$/,
    ]);
  });

  it('a symlink loop named on the command line: exit 2', async () => {
    const p = join(dir, 'loop.yaml');
    symlinkSync('loop.yaml', p);
    assertOneError(await timed(['validate', p]), /loop\.yaml: symlink loop \(ELOOP\)$/m);
  });

  it('a path under a file (ENOTDIR, what root cannot read either): exit 2', async () => {
    const p = join(write('plain.yaml', pool('x', '10.5.0.0/16')), 'child.yaml');
    assertOneError(
      await timed(['validate', p]),
      /plain\.yaml\/child\.yaml: no such file or directory \(a parent is not a directory: ENOTDIR\)$/m,
    );
  });
});
