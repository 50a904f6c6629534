/**
 * `validate --config` answers as `serve` does with the same configuration
 * file and state: the same objects go through the real webhook (`runServe`,
 * /mutate then /validate on the mutated object, as the kube-apiserver calls
 * them; UPDATE with the stored object for an object the state holds) and
 * through the built CLI, and allowed, patch, warnings, denials and audited
 * findings are compared object by object. The configuration sets a rule to
 * audit, two to warn and excludes a namespace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { stringify } from 'yaml';
import { findingLine } from '../../../src/admission/response.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import { decodePatch } from '../../helpers/reviews.js';
import { runCli } from '../../helpers/cli.js';
import { admit, serve, type AdmissionResponseJson } from '../operations/server.js';

const dir = mkdtempSync(join(tmpdir(), 'rcg-parity-'));
const write = (name: string, docs: unknown[]) => {
  const p = join(dir, name);
  writeFileSync(p, docs.map((d) => stringify(d)).join('---\n'));
  return p;
};

const es = (namespace: string, name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name, namespace },
  spec: { version: '8.16.1', nodeSets: [{ name: 'default', count: 1 }], ...spec },
});
const pool = (name: string, cidr: string, group = 'crd.projectcalico.org/v1') => ({
  apiVersion: group,
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, vxlanMode: 'Never' },
});

// The stored objects: no licence, so es-enterprise-license finds every remote (in warn mode here).
const stored = [es('team-a', 'target'), pool('existing', '10.40.0.0/16'), pool('other', '10.50.0.0/16'), pool('quiet', '10.60.0.0/16')];
/** The inputs, each in its own file; none depends on another, so the webhook (one at a time) and the CLI (all at once) see the same state. */
const inputs: Record<string, unknown> = {
  'self-ref': es('team-a', 'self', { remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'self' } }] }), // es-remote-ref: audit
  excluded: es('sandbox', 'self', { remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'self' } }] }), // not checked
  'wrong-types': es('team-a', 'broken', { version: 8 }), // object-shape: deny
  defaulted: es('team-a', 'referrer', { remoteClusters: [{ name: 't', elasticsearchRef: { name: 'target' } }] }), // patch + licence warning
  overlap: pool('newcomer', '10.50.128.0/17', 'projectcalico.org/v3'), // calico-pool-overlap: warn
  'cidr-change': pool('existing', '10.41.0.0/16'), // UPDATE: calico-pool-spec denies
  unchanged: pool('quiet', '10.60.0.0/16'), // UPDATE: allowed
};
const CONFIG = 'rules: {es-remote-ref: audit, es-enterprise-license: warn, calico-pool-overlap: warn}\nexcludedNamespaces: [sandbox]\n';

interface CliObject {
  file: string;
  operation: string;
  allowed: boolean;
  findings: { rule: string; action: string; field: string; message: string }[];
  patch: unknown[];
}

let server: RunningServer;
let config: string;
let state: string;
before(async () => {
  config = join(dir, 'config.yaml');
  writeFileSync(config, CONFIG);
  state = write('state.yaml', stored);
  server = await serve({ state: [state], config });
});
after(() => server?.close());

/** The webhook's answer as the kube-apiserver gathers it: /mutate, its patch applied, then /validate. */
async function webhook(object: unknown) {
  const key = (o: unknown) => JSON.stringify([(o as { kind: string }).kind, (o as { metadata: { name: string } }).metadata.name]);
  const old = stored.find((s) => key(s) === key(object));
  // The API server sends the stored object on UPDATE (the Calico groups are one object).
  const review = old ? { operation: 'UPDATE' as const, oldObject: old } : {};
  const mutated: AdmissionResponseJson = await admit(server.port, object, { ...review, path: '/mutate' });
  const patch = (decodePatch(mutated.patch) as fjp.Operation[] | undefined) ?? [];
  const patched = fjp.applyPatch(structuredClone(object), patch, false, false).newDocument;
  const validated = await admit(server.port, patched, review);
  return { operation: old ? 'UPDATE' : 'CREATE', mutated, validated, patch };
}

describe('validate --config gives the answers serve gives with the same file and state', () => {
  it('object by object: operation, allowed, patch, warnings, denials and audited findings', async () => {
    const files = Object.entries(inputs).map(([name, o]) => write(`${name}.yaml`, [o]));
    const r = await runCli(['validate', '--output', 'json', '--config', config, '--state', state, ...files]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const objects = (JSON.parse(r.stdout) as { objects: CliObject[] }).objects;
    for (const [name, object] of Object.entries(inputs)) {
      const cli = objects.find((o) => o.file.endsWith(`/${name}.yaml`));
      const hook = await webhook(object);
      if (!cli) {
        // Not checked by validate (excluded namespace): the webhook lets it through untouched and silent.
        assert.equal(name, 'excluded', `${name} was checked`);
        assert.deepEqual([hook.mutated.allowed, hook.validated.allowed, hook.patch], [true, true, []]);
        assert.equal(hook.validated.warnings, undefined);
        assert.equal(hook.validated.auditAnnotations, undefined);
        continue;
      }
      assert.equal(cli.operation, hook.operation, `${name}: operation`);
      assert.equal(cli.allowed, hook.mutated.allowed && hook.validated.allowed, `${name}: allowed`);
      assert.deepEqual(cli.patch, hook.patch, `${name}: patch`);
      const lines = (action: string) =>
        cli.findings
          .filter((f) => f.action === action)
          .map(findingLine)
          .sort();
      const warnings = [...(hook.mutated.warnings ?? []), ...(hook.validated.warnings ?? [])].sort();
      assert.deepEqual(lines('warn'), warnings, `${name}: warnings`);
      // Denials from the response's causes (its message joins them with `; `, which messages may hold too).
      const causes =
        (hook.validated.status as { details?: { causes?: { field: string; message: string }[] } } | undefined)?.details?.causes ?? [];
      assert.deepEqual(
        cli.findings
          .filter((f) => f.action === 'deny')
          .map((f) => `${f.field} ${f.rule}: ${f.message}`)
          .sort(),
        causes.map((c) => `${c.field} ${c.message}`).sort(),
        `${name}: denials`,
      );
      const audited = cli.findings.filter((f) => f.action === 'audit');
      for (const f of audited) {
        assert.match(hook.validated.auditAnnotations?.[f.rule] ?? '', new RegExp(`audit ${f.field.replace(/[.[\]]/g, '\\$&')}`), name);
      }
      const hookAudited =
        Object.values(hook.validated.auditAnnotations ?? {})
          .join(', ')
          .match(/\baudit\b/g) ?? [];
      assert.equal(audited.length, hookAudited.length, `${name}: audited findings`);
    }
    // The cases cover what they are meant to.
    const byFile = (n: string) => objects.find((o) => o.file.endsWith(`/${n}.yaml`))!;
    assert.deepEqual(byFile('cidr-change').operation, 'UPDATE');
    assert.equal(byFile('cidr-change').allowed, false);
    assert.ok(byFile('self-ref').findings.some((f) => f.action === 'audit'));
    assert.ok(byFile('overlap').findings.some((f) => f.rule === 'calico-pool-overlap' && f.action === 'warn'));
    assert.ok(byFile('defaulted').patch.length > 0);
  });
});
