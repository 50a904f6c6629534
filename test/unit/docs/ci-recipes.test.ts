/**
 * The CI recipes of the README ("Check pull requests in CI") and the
 * repository's .pre-commit-hooks.yaml: each snippet parses as YAML with the
 * structure its CI system reads, names the published package at its current
 * version, and its `remote-cluster-guard validate ...` command line, run
 * through the real CLI on a clean and on a denied set of manifests, exits 0
 * and 1 with the output its CI system reads (SARIF, JUnit XML).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../helpers/cli.js';

const ROOT = new URL('../../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf-8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};
const BIN = Object.keys(pkg.bin)[0]!;
const README = readFileSync(new URL('README.md', ROOT), 'utf-8');

/** The text of the README's `## Check pull requests in CI` section. */
function ciSection(): string {
  const start = README.indexOf('\n## Check pull requests in CI\n');
  assert.ok(start >= 0, 'the README has a "Check pull requests in CI" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The first ```yaml block under `### <heading>` of the CI section, parsed. */
function snippet(heading: string): { text: string; doc: Record<string, unknown> } {
  const section = ciSection();
  const at = section.indexOf(`\n### ${heading}\n`);
  assert.ok(at >= 0, `the CI section has "### ${heading}"`);
  const next = section.indexOf('\n### ', at + 1);
  const sub = section.slice(at, next < 0 ? undefined : next);
  const m = /```yaml\n([\s\S]*?)\n```/.exec(sub);
  assert.ok(m, `"${heading}" has a yaml code block`);
  return { text: m[1]!, doc: parse(m[1]!) as Record<string, unknown> };
}

/**
 * The arguments after `remote-cluster-guard[@version]` in a shell command line, up to a
 * redirection or pipe, and the file stdout is redirected to; checks the package and version.
 */
function validateCommand(line: string): { args: string[]; stdoutFile?: string } {
  const m = /(?:npx --yes )?(\S+?)(?:@(\d[^\s]*))? (validate\b[^>|;"]*)(?:>\s*(\S+))?/.exec(line.slice(line.indexOf(BIN)));
  assert.ok(m, `a ${BIN} validate command in: ${line}`);
  assert.equal(m[1], BIN, 'the command is the package bin');
  if (line.includes('npx')) {
    assert.equal(m[2], pkg.version, `npx pins the current version (${pkg.version})`);
    assert.equal(pkg.name, BIN, 'npx runs the package of the same name as its bin');
  }
  return { args: m[3]!.trim().split(/\s+/), ...(m[4] ? { stdoutFile: m[4] } : {}) };
}

// Manifests to run the commands on: a directory with nothing denied, one with a denial.
const dir = mkdtempSync(join(tmpdir(), 'rcg-ci-recipes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pool = (name: string, cidr: string) =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, blockSize: 26}\n`;
const CLEAN = pool('alone', '10.10.0.0/16');
const DENIED = `${pool('first', '10.20.0.0/16')}---\n${pool('second', '10.20.128.0/17')}`;
function fixtureDir(name: string, text: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'pools.yaml'), text);
  return d;
}
const cleanDir = fixtureDir('clean', CLEAN);
const deniedDir = fixtureDir('denied', DENIED);

/** `args` with the directory argument (`deploy/`) replaced by `target`. */
const onDir = (args: string[], target: string) => args.map((a) => (a === 'deploy/' ? target : a));

describe('CI recipes in the README', () => {
  it('GitHub Actions: a job validates to SARIF and uploads that file; the command exits 0/1 with SARIF on stdout', async () => {
    const { doc } = snippet('GitHub Actions');
    const jobs = doc['jobs'] as Record<string, { steps: { run?: string; uses?: string; if?: string; with?: Record<string, unknown> }[] }>;
    const job = Object.values(jobs).find((j) => j.steps.some((s) => s.run?.includes(`${BIN}`)));
    assert.ok(job, 'a job runs the validate step');
    const run = job.steps.find((s) => s.run?.includes(BIN))!.run!;
    const upload = job.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
    assert.ok(upload, 'an upload-sarif step');
    assert.equal(upload.if, 'always()', 'the findings are uploaded when validate fails the step');
    const { args, stdoutFile } = validateCommand(run);
    assert.deepEqual(args.slice(0, 3), ['validate', '--output', 'sarif']);
    assert.equal(upload.with?.['sarif_file'], stdoutFile, 'the upload reads the file validate wrote');
    assert.ok(job.steps.indexOf(upload) > job.steps.findIndex((s) => s.run === run), 'the upload comes after the validate step');
    assert.ok((doc['permissions'] as Record<string, string>)['security-events'] === 'write', 'upload-sarif needs security-events: write');

    const [clean, denied] = await Promise.all([runCli(onDir(args, cleanDir)), runCli(onDir(args, deniedDir))]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(denied.code, 1, denied.stderr);
    for (const r of [clean, denied]) {
      const sarif = JSON.parse(r.stdout) as { version: string; runs: { results: unknown[] }[] };
      assert.equal(sarif.version, '2.1.0');
      assert.ok(Array.isArray(sarif.runs));
    }
    assert.ok(
      (JSON.parse(denied.stdout) as { runs: { results: unknown[] }[] }).runs.some((x) => x.results.length > 0),
      'the denial is a SARIF result',
    );
  });

  it('GitLab CI: the job writes JUnit to the file artifacts.reports.junit names, kept when it fails', async () => {
    const { doc } = snippet('GitLab CI');
    const jobs = Object.values(doc).filter((j): j is { script: string[]; artifacts: { when: string; reports: { junit: string } } } =>
      Boolean(j && typeof j === 'object' && Array.isArray((j as { script?: unknown }).script)),
    );
    assert.equal(jobs.length, 1, 'one job');
    const job = jobs[0]!;
    const line = job.script.find((l) => l.includes(BIN));
    assert.ok(line, 'the script runs validate');
    const { args, stdoutFile } = validateCommand(line);
    assert.deepEqual(args.slice(0, 3), ['validate', '--output', 'junit']);
    assert.equal(job.artifacts.reports.junit, stdoutFile, 'the JUnit report is the file validate wrote');
    assert.equal(job.artifacts.when, 'always', 'the report is kept when validate fails the job');

    const [clean, denied] = await Promise.all([runCli(onDir(args, cleanDir)), runCli(onDir(args, deniedDir))]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(denied.code, 1, denied.stderr);
    for (const r of [clean, denied]) assert.match(r.stdout, /^(<\?xml[^>]*>\s*)?<testsuites[\s>]/);
    assert.match(denied.stdout, /<failure[\s>]/, 'the denial is a failed test case');
  });

  it('Argo CD: a Config Management Plugin whose init pipes kustomize build into validate -', async () => {
    const { doc } = snippet('Argo CD');
    assert.equal(doc['apiVersion'], 'argoproj.io/v1alpha1');
    assert.equal(doc['kind'], 'ConfigManagementPlugin');
    const spec = doc['spec'] as { init: { command: string[] }; generate: { command: string[] }; discover: { fileName: string } };
    const init = spec.init.command.at(-1)!;
    assert.match(init, /set -o pipefail/, 'a failing kustomize build is not hidden by the pipe');
    assert.match(init, new RegExp(`kustomize build \\. \\| ${BIN} validate -`));
    assert.deepEqual(spec.generate.command.slice(0, 2), ['sh', '-c']);
    assert.equal(spec.generate.command[2], 'kustomize build .', 'generate emits exactly what init checked');
    assert.equal(spec.discover.fileName, 'kustomization.yaml');

    const { args } = validateCommand(init);
    assert.deepEqual(args, ['validate', '-']);
    const [clean, denied] = await Promise.all([runCli(args, { input: CLEAN }), runCli(args, { input: DENIED })]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stdout, /calico-pool-overlap/);
  });

  it('pre-commit: .pre-commit-hooks.yaml has the hook the README adds by id, running the package bin on the staged files', async () => {
    const hooks = parse(readFileSync(new URL('.pre-commit-hooks.yaml', ROOT), 'utf-8')) as {
      id: string;
      entry: string;
      language: string;
      files: string;
      pass_filenames?: boolean;
    }[];
    const hook = hooks.find((h) => h.id === 'remote-cluster-guard-validate');
    assert.ok(hook, 'the hook id');
    assert.equal(hook.language, 'node');
    assert.notEqual(hook.pass_filenames, false, 'the staged files are passed');
    const files = new RegExp(hook.files);
    for (const f of ['deploy/a.yaml', 'b.yml', 'c.json']) assert.ok(files.test(f), `${f} is checked`);
    for (const f of ['README.md', 'x.yaml.md', 'Makefile']) assert.ok(!files.test(f), `${f} is not`);
    const [bin, ...args] = hook.entry.split(/\s+/);
    assert.equal(bin, BIN, 'the entry is the package bin');
    // pre-commit node hooks install the repository with npm pack: the bin must be in the package and built by it.
    const pack = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf-8')) as { files?: string[]; scripts: Record<string, string> };
    assert.ok(
      pack.files?.some((f) => pkg.bin[BIN]!.startsWith(f.replace(/\/?$/, '/'))),
      'package.json files includes the bin',
    );
    assert.match(pack.scripts['prepack'] ?? '', /tsc -p tsconfig\.build\.json/, 'npm pack builds dist/');

    const config = snippet('pre-commit').doc as { repos: { hooks: { id: string }[] }[] };
    assert.deepEqual(
      config.repos.flatMap((r) => r.hooks.map((h) => h.id)),
      [hook.id],
      'the README adds the hook by its id',
    );

    const [clean, denied] = await Promise.all([
      runCli([...args, join(cleanDir, 'pools.yaml')]),
      runCli([...args, join(cleanDir, 'pools.yaml'), join(deniedDir, 'pools.yaml')]),
    ]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(denied.code, 1, denied.stderr);
  });
});
