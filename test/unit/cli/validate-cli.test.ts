/**
 * `remote-cluster-guard validate` as a user runs it: exit status 0/1/2, the
 * text line format, JSON output and stdin. Rule-specific results are covered
 * with the docs examples in the rules' suites and in eck-docs-examples.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJson } from '../../../src/cli/output/index.js';
import { DuplicateIdentityError, runValidate } from '../../../src/cli/validate.js';
import { DEFAULT_POLICY } from '../../../src/config/policy.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { runCli } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/files.js';

const { dir, file } = scratchDir('validate');

const plainEs = `apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: plain
  namespace: team-a
spec:
  version: 8.16.1
  nodeSets: [{name: default, count: 1}]
`;
const wrongTypes = `apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: broken
  namespace: team-a
spec:
  version: 8
`;

describe('validate command', () => {
  it('exits 0 and says so when nothing is denied', async () => {
    const r = await runCli(['validate', file('ok.yaml', plainEs)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 objects checked: 0 denied, 1 allowed, 0 patched$/m);
  });

  it('exits 1 on a denial and prints <file>:<line>: <kind> <namespace>/<name>: <rule>: <field>: <message>', async () => {
    const p = file('bad.yaml', wrongTypes);
    const r = await runCli(['validate', p]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(
        `^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: Elasticsearch team-a/broken: object-shape: spec\\.version: expected string, received number`,
        'm',
      ),
    );
  });

  it('--output json lists per object kind, namespace, name, allowed, findings and patch', async () => {
    const r = await runCli(['validate', '--output', 'json', file('bad2.yaml', wrongTypes)]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.allowed, false);
    assert.equal(doc.objects.length, 1);
    const [o] = doc.objects;
    assert.deepEqual([o.kind, o.namespace, o.name, o.allowed, o.line], ['Elasticsearch', 'team-a', 'broken', false, 5]);
    assert.deepEqual(o.findings[0], {
      rule: 'object-shape',
      action: 'deny',
      field: 'spec.version',
      message: o.findings[0].message,
      line: 11,
      column: 3,
    });
    assert.deepEqual(o.patch, []);
  });

  it('reads - from stdin', async () => {
    const r = await runCli(['validate', '-'], { input: wrongTypes });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^stdin:5: Elasticsearch team-a\/broken: object-shape/m);
  });

  it('defaults the namespace of objects without one to -n', async () => {
    const r = await runCli(['validate', '-n', 'team-z', '-'], {
      input: plainEs.replace('  namespace: team-a\n', '').replace('version: 8.16.1', 'version: 8'),
    });
    assert.match(r.stdout, /Elasticsearch team-z\/plain: object-shape/);
  });

  it('--config applies the rule modes and excluded namespaces of the file serve reads', async () => {
    // A self-reference: es-remote-ref denies it, es-enterprise-license too (no licence in the state).
    const selfRef = plainEs.replace('  nodeSets:', '  remoteClusters: [{name: me, elasticsearchRef: {name: plain}}]\n  nodeSets:');
    const input = file('self.yaml', selfRef + '---\n' + selfRef.replace('namespace: team-a', 'namespace: sandbox'));
    const enforced = await runCli(['validate', '--output', 'json', input]);
    assert.equal(enforced.code, 1);
    assert.equal(JSON.parse(enforced.stdout).objects.length, 2);
    const config = file('config.yaml', 'rules: {es-remote-ref: audit, es-enterprise-license: warn}\nexcludedNamespaces: [sandbox]\n');
    const r = await runCli(['validate', '--output', 'json', '--config', config, input]);
    assert.equal(r.code, 0, r.stdout);
    const doc = JSON.parse(r.stdout) as { objects: { namespace: string; findings: { rule: string; action: string }[] }[] };
    assert.deepEqual(
      doc.objects.map((o) => o.namespace),
      ['team-a'],
      'the excluded namespace is not checked',
    );
    const actions = doc.objects[0]!.findings.map((f) => `${f.rule} ${f.action}`);
    assert.ok(actions.includes('es-remote-ref audit'), actions.join(', '));
    assert.ok(actions.includes('es-enterprise-license warn'), actions.join(', '));
  });

  it('--config with an unknown rule exits 2 naming the key', async () => {
    const r = await runCli(['validate', '--config', file('bad-config.yaml', 'rules: {es-nope: off}\n'), file('ok2.yaml', plainEs)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rules\.es-nope/);
  });

  describe('exits 2 with a one-line error on unusable input or flags', () => {
    const cases: [string, string[], RegExp][] = [
      ['a missing file', ['validate', join(dir, 'nope.yaml')], /nope\.yaml: no such file/],
      ['a YAML syntax error', ['validate', file('syntax.yaml', 'kind: [Elasticsearch\n')], /syntax\.yaml:\d+: YAML syntax error/],
      ['an unknown flag', ['validate', '--colour', 'x.yaml'], /unknown option '--colour'/],
      ['a bad --output', ['validate', '--output', 'xml', 'x.yaml'], /--output.*xml.*invalid|Allowed choices are text, json/],
      ['no file', ['validate'], /missing required argument/],
      ['an unknown command', ['frobnicate'], /unknown command/],
    ];
    for (const [what, args, err] of cases) {
      it(what, async () => {
        const r = await runCli(args);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, err);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  });
});

describe('validate checks an object the state already holds as an UPDATE of it', () => {
  const pool = (apiVersion: string, cidr: string, extra = '') =>
    `apiVersion: ${apiVersion}\nkind: IPPool\nmetadata: {name: pool-a}\nspec: {cidr: ${cidr}, vxlanMode: Never${extra}}\n`;
  const stored = file('stored-pool.yaml', pool('crd.projectcalico.org/v1', '10.10.0.0/16'));
  /** runValidate in-process (the CLI spawns cost seconds each): the results as JSON output gives them. */
  const validate = async (files: string[], state: string[], o: { namespace?: string; ratcheting?: boolean } = {}) => {
    const result = await runValidate({
      files,
      state,
      namespace: o.namespace ?? 'default',
      operatorNamespace: 'elastic-system',
      rules: ALL_RULES,
      policy: { ...DEFAULT_POLICY, ratcheting: o.ratcheting ?? true },
    });
    return JSON.parse(formatJson(result)) as {
      allowed: boolean;
      objects: { operation: string; allowed: boolean; findings: { rule: string; action: string; message: string }[] }[];
    };
  };

  it('the built CLI denies a changed cidr as the webhook does on UPDATE, and says it checked an UPDATE', async () => {
    const r = await runCli(['validate', '--state', stored, file('changed-pool.yaml', pool('projectcalico.org/v3', '10.11.0.0/16'))]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /changed-pool\.yaml:1: IPPool pool-a \(update\): calico-pool-spec: spec\.cidr: the CIDR of an existing IPPool cannot change/,
    );
    assert.match(r.stdout, /1 checked as UPDATE of the stored object$/m);
  });

  it('in either Calico group; without the stored pool the same manifest is an allowed CREATE', async () => {
    for (const group of ['crd.projectcalico.org/v1', 'projectcalico.org/v3']) {
      const changed = file('changed-pool2.yaml', pool(group, '10.11.0.0/16'));
      const update = await validate([changed], [stored]);
      assert.deepEqual([update.objects[0]!.operation, update.allowed], ['UPDATE', false], group);
      const create = await validate([changed], []);
      assert.deepEqual([create.objects[0]!.operation, create.allowed], ['CREATE', true], group);
    }
  });

  it('an unchanged manifest is an allowed UPDATE', async () => {
    const doc = await validate([stored], [stored]);
    assert.deepEqual([doc.objects[0]!.operation, doc.objects[0]!.allowed], ['UPDATE', true]);
  });

  it('ratchets as the server does: a violation the stored object already had is a warning, unless ratcheting is off', async () => {
    // The stored pool predates the webhook with host bits set; the update only adds natOutgoing.
    const old = file('old-unmasked.yaml', pool('crd.projectcalico.org/v1', '10.20.0.5/16'));
    const edit = file('edit-unmasked.yaml', pool('crd.projectcalico.org/v1', '10.20.0.5/16', ', natOutgoing: true'));
    const ratcheted = await validate([edit], [old]);
    assert.equal(ratcheted.allowed, true);
    const findings = ratcheted.objects[0]!.findings;
    assert.ok(findings.some((f) => f.rule === 'calico-pool-spec' && f.action === 'warn' && /predates this change/.test(f.message)));
    assert.equal((await validate([edit], [old], { ratcheting: false })).allowed, false);
  });

  it('the built CLI exits 2 on two inputs of one identity (the two Calico groups are one), naming both places', async () => {
    const a = file('dup-a.yaml', pool('crd.projectcalico.org/v1', '10.30.0.0/16'));
    const b = file(
      'dup-b.yaml',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n${pool('projectcalico.org/v3', '10.31.0.0/16')}`,
    );
    const r = await runCli(['validate', a, b]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr, `error: IPPool pool-a is defined twice: ${a}:1 and ${b}:5\n`);
    assert.equal(r.stdout, '');
  });

  it('the same name in two namespaces is no duplicate; -n fills a missing namespace before comparing', async () => {
    const two = file('two-ns.yaml', plainEs + '---\n' + plainEs.replace('namespace: team-a', 'namespace: team-b'));
    await validate([two], []);
    const implicit = file('implicit-ns.yaml', plainEs + '---\n' + plainEs.replace('  namespace: team-a\n', ''));
    await assert.rejects(validate([implicit], [], { namespace: 'team-a' }), DuplicateIdentityError);
    await validate([implicit], [], { namespace: 'team-b' });
  });
});

describe('--version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf-8')) as { version: string };

  it('prints the package.json version on the program and on every command', async () => {
    for (const args of [['--version'], ['validate', '--version'], ['audit', '-V'], ['serve', '--version'], ['rules', '--version']]) {
      const r = await runCli(args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${version}\n`, ''], args.join(' '));
    }
  });
});

describe('exit policy', () => {
  it('--fail-on warn exits 1 on a warning that the default (deny) lets pass', async () => {
    // A self-reference with both rules that see it turned into warnings by the configuration.
    const selfRef = plainEs.replace('  nodeSets:', '  remoteClusters: [{name: me, elasticsearchRef: {name: plain}}]\n  nodeSets:');
    const input = file('warn-only.yaml', selfRef);
    const config = file('warn-config.yaml', 'rules: {es-remote-ref: warn, es-enterprise-license: warn}\n');
    const byDefault = await runCli(['validate', '--config', config, input]);
    assert.equal(byDefault.code, 0, byDefault.stdout + byDefault.stderr);
    assert.match(byDefault.stdout, /\(warning\)$/m);
    const strict = await runCli(['validate', '--config', config, '--fail-on', 'warn', input]);
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    assert.equal(strict.stdout, byDefault.stdout, 'the same report');
  });

  it('--require-objects exits 2 with one line when no handled object was found; without it that passes', async () => {
    const nothing = file('only-configmap.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    assert.equal((await runCli(['validate', nothing])).code, 0);
    const r = await runCli(['validate', '--require-objects', nothing]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^error: no Elasticsearch, IPPool and RemoteClusterConfiguration to check in .*only-configmap\.yaml \(--require-objects\)\n$/,
    );
    assert.equal(r.stdout, '');
  });
});
