/**
 * Audit of existing objects: `remote-cluster-guard audit --state` lists every
 * Elasticsearch, IPPool and RemoteClusterConfiguration with its findings and
 * exits 1 on a denial; the periodic audit of `serve` exposes the violations
 * as `remote_cluster_guard_audit_violations{rule,kind,action}`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { auditInSlices, auditState, startPeriodicAudit } from '../../../src/cli/audit.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import type { ObjectResult } from '../../../src/cli/validate.js';
import { DEFAULT_POLICY } from '../../../src/config/policy.js';
import { Engine } from '../../../src/engine/engine.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import type { AuditedObject } from '../../../src/reports/audited.js';
import { Metrics } from '../../../src/server/metrics.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import { runCli } from '../../helpers/cli.js';
import { makeEckTransportCa } from '../rules/elasticsearch/certs.js';
import { metricsText, serve } from './server.js';
import { cluster, FIXTURES, LICENSE, sample, SELF_REF_FIELD, tempDir, waitFor } from './support.js';

const dir = tempDir('audit');
const GOOD = [LICENSE, join(FIXTURES, 'eck/api-key-model.yaml'), join(FIXTURES, 'calico/federation-example.yaml')];
/** An existing Elasticsearch that references itself: es-remote-ref denies it. */
const BAD = join(dir, 'self-ref.yaml');
writeFileSync(BAD, stringify(cluster([{ name: 'me', elasticsearchRef: { name: 'cluster-three' } }], 1, 'cluster-three', 'ns-three')));
const EVERY_OBJECT = [
  'Elasticsearch ns-one/cluster-one',
  'Elasticsearch ns-two/cluster-two',
  'IPPool cluster1-main-pool',
  'IPPool cluster1-main-pool-v6',
  'IPPool default-ipv4-ippool',
  'IPPool default-ipv6-ippool',
  'RemoteClusterConfiguration cluster1',
];
const stateArgs = (files: string[]) => files.flatMap((f) => ['--state', f]);

type AuditJson = {
  allowed: boolean;
  objects: {
    kind: string;
    namespace: string;
    name: string;
    allowed: boolean;
    findings: { rule: string; action: string; field: string }[];
  }[];
};
const listed = (doc: AuditJson) => doc.objects.map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`).sort();

describe('audit command', () => {
  it('lists every existing Elasticsearch, IPPool and RCC with its findings; exit 0 without a denial, 1 with one', async () => {
    const [clean, denied] = await Promise.all([
      runCli(['audit', ...stateArgs(GOOD), '--output', 'json']),
      runCli(['audit', ...stateArgs([...GOOD, BAD]), '--output', 'json']),
    ]);
    assert.equal(clean.code, 0, clean.stderr);
    const cleanDoc = JSON.parse(clean.stdout) as AuditJson;
    assert.equal(cleanDoc.allowed, true);
    assert.deepEqual(listed(cleanDoc), EVERY_OBJECT);
    assert.ok(cleanDoc.objects.every((o) => o.allowed));

    assert.equal(denied.code, 1, denied.stderr);
    const doc = JSON.parse(denied.stdout) as AuditJson;
    assert.equal(doc.allowed, false);
    assert.deepEqual(listed(doc), [...EVERY_OBJECT, 'Elasticsearch ns-three/cluster-three'].sort());
    const bad = doc.objects.find((o) => o.name === 'cluster-three')!;
    assert.equal(bad.allowed, false);
    assert.deepEqual(
      bad.findings.map((f) => `${f.rule} ${f.action} ${f.field}`),
      [`es-remote-ref deny ${SELF_REF_FIELD}`],
    );
    assert.ok(doc.objects.filter((o) => o !== bad).every((o) => o.allowed));
  });
});

/** cluster-one in ns-one, its rotated public transport CA, and cluster-two trusting a copy of the old one taken as-is (with its owner reference). */
const CA_COPIES = join(dir, 'ca-copies.yaml');
{
  const now = new Date();
  const [oldCa, newCa] = [makeEckTransportCa(now, 'cluster-one', '0a'), makeEckTransportCa(now, 'cluster-one', '0b')];
  const owner = { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', name: 'cluster-one', uid: 'uid-one' };
  const docs = [
    { ...cluster([], 1, 'cluster-one', 'ns-one'), metadata: { name: 'cluster-one', namespace: 'ns-one', uid: 'uid-one' } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cluster-one-es-transport-certs-public', namespace: 'ns-one', ownerReferences: [owner] },
      data: { 'ca.crt': Buffer.from(newCa).toString('base64') },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'remote-certs', namespace: 'ns-two', ownerReferences: [owner] },
      data: { 'ca.crt': oldCa },
    },
    {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: 'cluster-two', namespace: 'ns-two' },
      spec: { version: '8.16.1', transport: { tls: { certificateAuthorities: { configMapName: 'remote-certs' } } } },
    },
  ];
  writeFileSync(CA_COPIES, docs.map((d) => stringify(d)).join('---\n'));
}

describe('audit of CA copies', () => {
  it('the audit command reports the copy the garbage collector deletes (deny) and the stale copy (warn)', async () => {
    const r = await runCli(['audit', '--state', CA_COPIES, '--output', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const two = (JSON.parse(r.stdout) as AuditJson).objects.find((o) => o.name === 'cluster-two')!;
    const field = 'spec.transport.tls.certificateAuthorities.configMapName';
    assert.deepEqual(
      two.findings.map((f) => `${f.rule} ${f.action} ${f.field}`),
      [`es-ca-owner-reference deny ${field}`, `es-ca-copy-stale warn ${field}`],
    );
  });

  it('the periodic audit sets remote_cluster_guard_trusted_ca_expiry_seconds to the earliest notAfter of a trusted copy', async () => {
    const { state } = addToState(loadManifests([join(FIXTURES, 'eck/other-eck-ca.yaml')]));
    const metrics = new Metrics();
    const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
    const stop = startPeriodicAudit({ engine, state, metrics, log: createLogger('silent'), intervalSeconds: 0.02 });
    try {
      const gauge = async () =>
        sample(await metrics.registry.metrics(), 'remote_cluster_guard_trusted_ca_expiry_seconds', {
          elasticsearch: 'default/cluster-two',
          copy: 'Secret default/remote-certs',
        });
      await waitFor('the expiry gauge', async () => (await gauge()) !== undefined);
      // The docs' CA (other-eck-ca.yaml) is valid until 2035-01-01.
      const expected = (Date.parse('2035-01-01T00:00:00Z') - Date.now()) / 1000;
      assert.ok(Math.abs((await gauge())! - expected) < 600, `gauge ${await gauge()}, expected about ${expected}`);
      // No trusted copy left: no sample.
      state.remove('Elasticsearch', { namespace: 'default', name: 'cluster-two' });
      await waitFor(
        'the gauge to clear',
        async () => !(await metrics.registry.metrics()).includes('remote_cluster_guard_trusted_ca_expiry_seconds{'),
      );
    } finally {
      stop();
    }
  });
});

describe('periodic audit', () => {
  const violations = async (metrics: Metrics, labels: Record<string, string>) =>
    sample(await metrics.registry.metrics(), 'remote_cluster_guard_audit_violations', labels);

  it('sets remote_cluster_guard_audit_violations{rule,kind,action} and clears it once the object is fixed', async () => {
    const { state } = addToState(loadManifests([...GOOD, BAD]));
    const metrics = new Metrics();
    const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
    const stop = startPeriodicAudit({ engine, state, metrics, log: createLogger('silent'), intervalSeconds: 0.02 });
    try {
      const labels = { rule: 'es-remote-ref', kind: 'Elasticsearch', action: 'deny' };
      await waitFor('the audit violation', async () => (await violations(metrics, labels)) === 1);
      assert.ok(
        sample(await metrics.registry.metrics(), 'remote_cluster_guard_audit_last_run_timestamp_seconds')! > Date.now() / 1000 - 60,
      );

      // Fixed in the cluster: the next run no longer reports it.
      state.apply(cluster([], 1, 'cluster-three', 'ns-three'));
      await waitFor('the violation to clear', async () => (await violations(metrics, labels)) === undefined);
    } finally {
      stop();
    }
  });

  it('hands every audited object, in compact form, to the report writer once per complete run, and waits for it', async () => {
    const { state } = addToState(loadManifests([...GOOD, BAD]));
    const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
    const runs: AuditedObject[][] = [];
    let writing = 0;
    let overlapped = false;
    const reports = {
      write: async (objects: readonly AuditedObject[]) => {
        if (writing++ > 0) overlapped = true;
        runs.push([...objects]);
        await new Promise((r) => setTimeout(r, 60));
        writing--;
      },
    };
    const stop = startPeriodicAudit({ engine, state, metrics: new Metrics(), log: createLogger('silent'), intervalSeconds: 0.02, reports });
    try {
      await waitFor('two report runs', () => runs.length >= 2, 30_000);
    } finally {
      stop();
    }
    assert.equal(overlapped, false, 'a run does not start while the previous one writes its reports');
    const first = runs[0]!;
    assert.deepEqual(
      first.map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`).sort(),
      [...EVERY_OBJECT, 'Elasticsearch ns-three/cluster-three'].sort(),
    );
    const bad = first.find((o) => o.name === 'cluster-three')!;
    assert.deepEqual(
      bad.outcomes.map((o) => [o.rule, o.mode, o.result]),
      [['es-remote-ref', 'enforce', 'fail']],
    );
    assert.ok(first.filter((o) => o !== bad).every((o) => o.outcomes.length === 0));
  });

  it('counts findings of rules in audit mode with action audit', async () => {
    const { state } = addToState(loadManifests([...GOOD, BAD]));
    const metrics = new Metrics();
    const engine = new Engine(ALL_RULES, {
      operatorNamespace: 'elastic-system',
      policy: { ...DEFAULT_POLICY, modes: { 'es-remote-ref': 'audit' } },
    });
    const stop = startPeriodicAudit({ engine, state, metrics, log: createLogger('silent'), intervalSeconds: 0.02 });
    try {
      await waitFor(
        'the audit-mode violation',
        async () => (await violations(metrics, { rule: 'es-remote-ref', kind: 'Elasticsearch', action: 'audit' })) === 1,
      );
      assert.equal(await violations(metrics, { rule: 'es-remote-ref', action: 'deny' }), undefined);
    } finally {
      stop();
    }
  });

  describe('at 30,000 objects', () => {
    const { state } = addToState(loadManifests([LICENSE]));
    const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
    before(() => {
      // Each references the next, so every one of them has es-remote-ref and es-remote-version work to do.
      for (let i = 0; i < 30_000; i++)
        state.apply(cluster([{ name: 'r', elasticsearchRef: { name: `c${(i + 1) % 30_000}` } }], 1, `c${i}`, 'ns-many'));
    });

    it('a periodic run yields to the event loop: the longest stall stays far below the run (about 0.4 s in one piece)', async () => {
      const metrics = new Metrics();
      let longest = 0;
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 2);
      const started = performance.now();
      const stop = startPeriodicAudit({ engine, state, metrics, log: createLogger('silent'), intervalSeconds: 0.01 });
      try {
        await waitFor('the audit to finish', async () => ((await metrics.auditLastRun.get()).values[0]?.value ?? 0) > 0, 60_000);
      } finally {
        stop();
        clearInterval(probe);
      }
      // The gap up to now too: waitFor's timer may have run before the probe's after the last stall.
      longest = Math.max(longest, performance.now() - last);
      const ms = performance.now() - started;
      process.stdout.write(`# periodic audit of 30,000 objects: ${ms.toFixed(0)} ms, longest event-loop stall ${longest.toFixed(1)} ms\n`);
      // Slices of 10 ms: 15 to 40 ms measured alone (garbage collection included), 70 to 90 ms beside the whole
      // unit suite on 2 cores. In one piece the stall is the whole run: 0.4 to 0.6 s alone, about 1 s under that
      // load. The bound grows with the run (a slower machine makes both longer), and stays far below it.
      assert.ok(longest < Math.max(200, ms / 4), `longest stall ${longest} ms in a run of ${ms} ms`);
    });

    it('in slices, the results are those of auditState (the audit command)', async () => {
      const sliced: ObjectResult[] = [];
      assert.equal(await auditInSlices(state, engine, (r) => sliced.push(r), 1), true);
      assert.deepEqual(sliced, auditState(state, engine).results);
    });
  });

  describe('through runServe auditInterval', () => {
    let server: RunningServer | undefined;
    after(async () => server?.close());
    it('exposes the violations of the state on /metrics', async () => {
      server = await serve({ state: [...GOOD, BAD], auditInterval: 0.02 });
      const port = server.port;
      await waitFor(
        'the audit violation on /metrics',
        async () =>
          sample(await metricsText(port), 'remote_cluster_guard_audit_violations', {
            rule: 'es-remote-ref',
            kind: 'Elasticsearch',
            action: 'deny',
          }) === 1,
      );
    });
  });
});
