/**
 * End to end: `audit --write-reports` against the real kube-apiserver with
 * report CRDs written after the upstream APIs (test/e2e/crds/openreports.yaml,
 * wgpolicyk8s.yaml): the API server validates every report against their
 * OpenAPI schemas, and the writer's strict field validation refuses a field
 * they do not have. Violations
 * appear as reports with matching summaries; a fixed or deleted object's
 * result goes; an unchanged audit writes nothing; an edited or deleted report
 * is put back; the API follows --reports and the CRDs served at run time;
 * `serve --audit-interval` writes them after its audits and not again while
 * nothing changes (its writes metric).
 *
 * Uninstall: the reports are owned by the install's
 * ValidatingWebhookConfiguration. The harness runs no
 * kube-controller-manager, so no garbage collector deletes them when it goes;
 * the test asserts the ownerReferences the collector acts on instead.
 * One cluster, the tests in order (each builds on the last).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeCerts, metricValue, startWebhook } from './support/webhook.js';

const OWNER = 'rcg-reports-owner';

let cluster: TestCluster;
const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
const ok = async (args: string[], input?: string) => {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

interface Report {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  source?: string;
  summary: Record<string, number>;
  results: {
    policy: string;
    result: string;
    severity?: string;
    properties?: Record<string, string>;
    resources: { kind: string; namespace?: string; name: string }[];
    timestamp: { seconds: number };
  }[];
}

const get = async (resource: string, name: string, namespace?: string): Promise<Report | undefined> => {
  const r = await kubectl(['get', resource, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json']);
  if (r.code !== 0) {
    assert.match(r.stderr, /NotFound/);
    return undefined;
  }
  return JSON.parse(r.stdout) as Report;
};

const audit = (...extra: string[]): Promise<CliResult> =>
  runCli(['audit', '--kubeconfig', cluster.kubeconfig, '--write-reports', '--webhook-configuration', OWNER, ...extra]);
/** The writer's count line on stderr. */
const counts = (r: CliResult) => {
  const m = /policy reports \((\w+)\): (\d+) created, (\d+) updated, (\d+) deleted, (\d+) unchanged, (\d+) failed/.exec(r.stderr);
  assert.ok(m, `no report line in:\n${r.stderr}`);
  return { api: m[1], created: +m[2]!, updated: +m[3]!, deleted: +m[4]!, unchanged: +m[5]!, failed: +m[6]! };
};

const es = (namespace: string, name: string, remote?: string) =>
  JSON.stringify({
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name, namespace },
    spec: {
      version: '8.16.1',
      nodeSets: [{ name: 'default', count: 1 }],
      ...(remote ? { remoteClusters: [{ name: remote, elasticsearchRef: { name: 'other' } }] } : {}),
    },
  });
const pool = (name: string, cidr: string) =>
  JSON.stringify({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name }, spec: { cidr } });

/** The summary counted from the results. */
const counted = (r: Report) => {
  const s: Record<string, number> = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const x of r.results) s[x.result]!++;
  return s;
};

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-crd.yaml', 'openreports.yaml', 'wgpolicyk8s.yaml']);
    for (const ns of ['ns-a', 'ns-b']) await ok(['create', 'namespace', ns]);
    // No webhook is registered: the objects are stored as they are, violations included, as in a cluster adopting the webhook.
    await ok(['apply', '-f', '-'], es('ns-a', 'bad', 'x:y'));
    await ok(['apply', '-f', '-'], es('ns-a', 'good'));
    await ok(['apply', '-f', '-'], es('ns-b', 'alone'));
    await ok(['apply', '-f', '-'], pool('bad-pool', '10.0.0.5/16'));
    await ok(['apply', '-f', '-'], pool('ok-pool', '10.1.0.0/16'));
    // The owner: a webhook configuration without webhooks, so nothing calls a server that does not run.
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: OWNER },
        webhooks: [],
      }),
    );
  },
  { timeout: 900_000 },
);

after(async () => {
  await cluster?.stop();
});

describe('policy reports', { concurrency: false }, () => {
  it('writes OpenReports reports (auto): one per namespace, one cluster report, summaries matching the results, owned by the webhook configuration', async () => {
    const r = await audit();
    assert.equal(r.code, 1, `exit 1 for the denials:\n${r.stderr}`);
    assert.deepEqual(counts(r), { api: 'openreports', created: 3, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
    const uid = (await ok(['get', 'validatingwebhookconfiguration', OWNER, '-o', 'jsonpath={.metadata.uid}'])).trim();

    const a = await get('reports.openreports.io', 'remote-cluster-guard', 'ns-a');
    assert.ok(a, 'a Report in ns-a');
    assert.deepEqual(a.summary, counted(a));
    assert.equal(a.source, 'remote-cluster-guard');
    assert.equal(a.metadata.labels?.['app.kubernetes.io/managed-by'], 'remote-cluster-guard');
    assert.deepEqual(
      a.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [['ValidatingWebhookConfiguration', OWNER, uid]],
    );
    const bad = a.results.filter((x) => x.resources[0]!.name === 'bad');
    const ref = bad.find((x) => x.policy === 'es-remote-ref' && x.result === 'fail');
    assert.ok(ref, `es-remote-ref fails on bad: ${JSON.stringify(bad)}`);
    assert.equal(ref.severity, 'high');
    assert.equal(ref.properties?.['mode'], 'enforce');
    assert.deepEqual(ref.resources[0], {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-a',
      name: 'bad',
    });
    assert.deepEqual(
      a.results.filter((x) => x.resources[0]!.name === 'good').map((x) => [x.policy, x.result]),
      [['remote-cluster-guard', 'pass']],
    );

    const b = await get('reports.openreports.io', 'remote-cluster-guard', 'ns-b');
    assert.deepEqual(b?.summary, { pass: 1, fail: 0, warn: 0, error: 0, skip: 0 });

    const c = await get('clusterreports.openreports.io', 'remote-cluster-guard');
    assert.ok(c, 'a ClusterReport');
    assert.deepEqual(c.summary, { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 });
    assert.deepEqual(
      c.results.map((x) => [x.resources[0]!.name, x.policy, x.result]),
      [
        ['bad-pool', 'calico-pool-spec', 'fail'],
        ['ok-pool', 'remote-cluster-guard', 'pass'],
      ],
    );
    assert.equal(c.metadata.ownerReferences?.[0]?.uid, uid);
  });

  it('a second, unchanged audit writes nothing', async () => {
    const r = await audit();
    assert.deepEqual(counts(r), { api: 'openreports', created: 0, updated: 0, deleted: 0, unchanged: 3, failed: 0 });
  });

  it('a fixed object loses its result, a deleted one its results, and a namespace without objects its report', async () => {
    const before = await get('clusterreports.openreports.io', 'remote-cluster-guard');
    await ok(['delete', 'ippool.crd.projectcalico.org', 'bad-pool']);
    await ok(['apply', '-f', '-'], pool('bad-pool', '10.0.0.0/16'));
    await ok(['delete', 'elasticsearch', '-n', 'ns-a', 'bad']);
    await ok(['delete', 'elasticsearch', '-n', 'ns-b', 'alone']);
    const r = await audit();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(counts(r), { api: 'openreports', created: 0, updated: 2, deleted: 1, unchanged: 0, failed: 0 });
    const c = await get('clusterreports.openreports.io', 'remote-cluster-guard');
    assert.deepEqual(c?.summary, { pass: 2, fail: 0, warn: 0, error: 0, skip: 0 });
    // The unchanged pass of ok-pool keeps the time it was first found.
    const okPool = (x?: Report) => x?.results.find((y) => y.resources[0]!.name === 'ok-pool')?.timestamp;
    assert.deepEqual(okPool(c), okPool(before));
    const a = await get('reports.openreports.io', 'remote-cluster-guard', 'ns-a');
    assert.deepEqual(
      a?.results.map((x) => [x.resources[0]!.name, x.result]),
      [['good', 'pass']],
    );
    assert.equal(await get('reports.openreports.io', 'remote-cluster-guard', 'ns-b'), undefined, 'the report of ns-b is deleted');
  });

  it('a report edited by someone else is put back, one deleted is written again', async () => {
    await ok([
      'patch',
      'clusterreports.openreports.io',
      'remote-cluster-guard',
      '--type=merge',
      '-p',
      '{"summary":{"pass":7},"results":[]}',
    ]);
    await ok(['delete', 'reports.openreports.io', '-n', 'ns-a', 'remote-cluster-guard']);
    const r = await audit();
    assert.deepEqual(counts(r), { api: 'openreports', created: 1, updated: 1, deleted: 0, unchanged: 0, failed: 0 });
    const c = await get('clusterreports.openreports.io', 'remote-cluster-guard');
    assert.deepEqual(c?.summary, { pass: 2, fail: 0, warn: 0, error: 0, skip: 0 });
    assert.equal(c?.results.length, 2);
    assert.ok(await get('reports.openreports.io', 'remote-cluster-guard', 'ns-a'));
  });

  it('--reports wgpolicyk8s writes PolicyReports and removes the OpenReports ones', async () => {
    await ok(['apply', '-f', '-'], pool('bad-pool-2', '10.2.0.7/16'));
    const r = await audit('--reports', 'wgpolicyk8s');
    assert.deepEqual(counts(r), { api: 'wgpolicyk8s', created: 2, updated: 0, deleted: 2, unchanged: 0, failed: 0 });
    const c = await get('clusterpolicyreports.wgpolicyk8s.io', 'remote-cluster-guard');
    assert.ok(c);
    assert.deepEqual(c.summary, counted(c));
    assert.deepEqual(c.summary, { pass: 2, fail: 1, warn: 0, error: 0, skip: 0 });
    assert.equal(await get('clusterreports.openreports.io', 'remote-cluster-guard'), undefined);
    assert.deepEqual(counts(await audit('--reports', 'wgpolicyk8s')).unchanged, 2, 'unchanged PolicyReports are not rewritten');
  });

  it("serve --audit-interval writes them after each audit, the config file's reports key over the flag, and an unchanged audit writes nothing", async () => {
    const certs = await makeCerts();
    const config = join(mkdtempSync(join(tmpdir(), 'rcg-e2e-reports-')), 'config.yaml');
    writeFileSync(config, 'reports: openreports\n');
    const hook = await startWebhook({
      cluster,
      ...certs,
      extraArgs: ['--audit-interval', '1', '--reports', 'wgpolicyk8s', '--config', config, '--webhook-configuration', OWNER],
    });
    try {
      const value = (text: string, name: string) => metricValue(text, name) ?? 0;
      const writes = (text: string) =>
        ['create', 'update', 'delete'].map((verb) => value(text, `remote_cluster_guard_report_writes_total{verb="${verb}"}`));
      // OpenReports (the file) created, the PolicyReports of the previous test (the flag's API) deleted.
      await hook.waitForMetrics((t) => writes(t).join() === '2,0,2', 'the reports written by the first audit', 60_000);
      const c = await get('clusterreports.openreports.io', 'remote-cluster-guard');
      assert.deepEqual(c?.summary, { pass: 2, fail: 1, warn: 0, error: 0, skip: 0 });
      const lastRun = async () => value((await hook.get('/metrics')).body, 'remote_cluster_guard_audit_last_run_timestamp_seconds');
      const seen = await lastRun();
      // Two more complete audits: the reports are not written again.
      await hook.waitForMetrics(
        (t) => value(t, 'remote_cluster_guard_audit_last_run_timestamp_seconds') >= seen + 2,
        'two more audits',
        60_000,
      );
      const text = (await hook.get('/metrics')).body;
      assert.deepEqual(writes(text), [2, 0, 2]);
      assert.equal(value(text, 'remote_cluster_guard_report_write_failures_total{reason="server_error"}'), 0);
    } finally {
      await hook.stop();
    }
  });

  it('follows the CRDs served at run time: OpenReports removed → wgpolicyk8s; none served → a one-line error, exit 2', async () => {
    await ok(['delete', 'crd', 'reports.openreports.io', 'clusterreports.openreports.io']);
    // Discovery drops the group within seconds of the CRDs' deletion.
    for (let i = 0; ; i++) {
      const r = await audit();
      if (counts(r).api === 'wgpolicyk8s') {
        assert.equal(counts(r).failed, 0);
        assert.ok(await get('clusterpolicyreports.wgpolicyk8s.io', 'remote-cluster-guard'));
        break;
      }
      assert.ok(i < 30, `still ${counts(r).api} after the OpenReports CRDs were deleted`);
      await new Promise((res) => setTimeout(res, 500));
    }
    await ok(['delete', 'crd', 'policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io']);
    for (let i = 0; ; i++) {
      const r = await audit();
      if (r.code === 2) {
        assert.match(r.stderr, /^error: --write-reports: no policy report API \(--reports auto\) is served by the cluster$/m);
        break;
      }
      assert.ok(i < 30, `reports still written after every report CRD was deleted:\n${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  });
});
