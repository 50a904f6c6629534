/**
 * The npm package as a user gets it: `npm pack` (prepack builds dist/ afresh)
 * gives a tarball holding dist/ and package.json, the `bin` is there with its
 * shebang and nothing of src/ or test/ is; and in an empty directory, with an
 * empty npm cache (every dependency from the registry, as on a new machine),
 * `npm exec --package <tarball> -- remote-cluster-guard validate` exits 0 on
 * an allowed manifest and 1 on a denied one with the rule's message.
 *
 * Needs the npm registry. How long the cold `npm exec` takes is printed as a
 * diagnostic, not asserted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
};
const BIN = Object.keys(pkg.bin)[0]!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
}

const work = mkdtempSync(join(tmpdir(), 'rcg-package-'));
const packDir = join(work, 'pack');
const empty = join(work, 'empty');
const npmEnv = { npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false' };
const STALE = 'dist/stale-from-a-deleted-source.js';
let tarball: string;
let files: string[];

const pool = (name: string, cidr: string) =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, blockSize: 26}\n`;

before(
  async () => {
    mkdirSync(packDir);
    mkdirSync(empty);
    // What an earlier build left of a source file since deleted.
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    writeFileSync(join(ROOT, STALE), 'export {};\n');
    const packed = await run('npm', ['pack', '--pack-destination', packDir, '--json'], ROOT, npmEnv);
    assert.equal(packed.code, 0, packed.stderr);
    const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = join(packDir, info.filename);
    files = info.files.map((f) => f.path);
    writeFileSync(join(work, 'allowed.yaml'), pool('alone', '10.10.0.0/16'));
    writeFileSync(join(work, 'denied.yaml'), `${pool('first', '10.20.0.0/16')}---\n${pool('second', '10.20.128.0/17')}`);
  },
  { timeout: 300_000 },
);
after(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('prepack builds dist/ afresh: the output of a deleted source file is not packed', () => {
    assert.ok(files.includes('dist/cli/bin.js'));
    assert.ok(!files.includes(STALE), `${STALE} was removed before the build`);
  });

  it('holds the bin with its shebang, dist/ and package.json, and no sources or tests', async () => {
    assert.deepEqual(pkg.files, ['dist/']);
    const bin = pkg.bin[BIN]!;
    assert.ok(files.includes(bin), `${bin} is in the tarball`);
    assert.ok(files.includes('package.json'));
    for (const f of files) assert.ok(/^(dist\/|package\.json$|README\.md$|LICENSE)/.test(f), `${f} belongs in the package`);
    const listed = await run('tar', ['-xzOf', tarball, `package/${bin}`], work);
    assert.equal(listed.stdout.split('\n')[0], '#!/usr/bin/env node');
    assert.deepEqual(readdirSync(packDir), [tarball.slice(packDir.length + 1)]);
  });
});

describe(`npm exec --package <tarball> -- ${BIN} validate, in an empty directory`, () => {
  it('exits 0 on an allowed manifest (cold npm cache: dependencies from the registry)', async (t) => {
    const r = await run('npm', ['exec', '--yes', '--package', tarball, '--', BIN, 'validate', join(work, 'allowed.yaml')], empty, npmEnv);
    t.diagnostic(`cold npm exec: ${Math.round(r.ms)} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1 objects checked: 0 denied, 1 allowed, 0 patched\n');
  });

  it('exits 1 on a denied manifest, naming the rule, the object and the line', async (t) => {
    const r = await run('npm', ['exec', '--yes', '--package', tarball, '--', BIN, 'validate', join(work, 'denied.yaml')], empty, npmEnv);
    t.diagnostic(`warm npm exec: ${Math.round(r.ms)} ms`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /denied\.yaml:1: IPPool first: calico-pool-overlap: spec\.cidr: IPPool first \(10\.20\.0\.0\/16\) overlaps/);
    assert.match(r.stdout, /2 objects checked: 2 denied, 0 allowed, 0 patched\n$/);
    assert.deepEqual(readdirSync(empty), [], 'npm exec leaves the directory empty');
  });
});
