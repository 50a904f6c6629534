/**
 * End to end: a real kube-apiserver and etcd on 127.0.0.1 (test/e2e/harness),
 * the real webhook serving with live state, deploy/'s webhook configurations,
 * and the real kubectl. Nothing here fakes the API server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestCluster, type KubectlResult, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { makeCerts, metricValue, startWebhook, webhookConfigurations, type RunningWebhook } from './support/webhook.js';
import { issueServingCertificate } from '../../src/certs/generate.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (path: string) => readFileSync(join(ROOT, 'test/fixtures', path), 'utf-8');

let cluster: TestCluster;
let hook: RunningWebhook;
let certs: { certDir: string; caBundle: string };

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
const apply = (yaml: string, ...args: string[]) => kubectl(['apply', '-f', '-', ...args], yaml);
const getJson = async (args: string[]) => {
  const r = await kubectl(['get', ...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};
const exists = async (args: string[]) => (await kubectl(['get', ...args, '-o', 'name'])).code === 0;

function assertDenied(r: KubectlResult, rule: string, message: RegExp) {
  assert.notEqual(r.code, 0, `expected a denial, kubectl said:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /admission webhook "(validate|mutate)\.remote-cluster-guard\.io" denied the request/, r.stderr);
  assert.ok(r.stderr.includes(`${rule}: `), `stderr names rule ${rule}:\n${r.stderr}`);
  assert.match(r.stderr, message);
}
function assertOk(r: KubectlResult) {
  assert.equal(r.code, 0, `kubectl failed:\n${r.stdout}\n${r.stderr}`);
}
const metrics = () => hook.get('/metrics').then((r) => r.body);
const stateCount = (text: string, resource: string) =>
  metricValue(text, `remote_cluster_guard_state_objects{resource="${resource}"}`) ?? -1;
/** Waits until the webhook's live state holds `n` objects of `resource`: watch latency, not a blind sleep. */
const waitForState = (resource: string, n: number) =>
  hook.waitForMetrics((t) => stateCount(t, resource) === n, `${n} ${resource} in the webhook's state`);

const es = (ns: string, name: string, version: string, spec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name, namespace: ns },
    spec: { version, nodeSets: [{ name: 'default', count: 1 }], ...spec },
  });
const pool = (
  name: string,
  cidr: string,
  spec: Record<string, unknown> = {},
  labels?: Record<string, string>,
  group = 'crd.projectcalico.org/v1',
) => JSON.stringify({ apiVersion: group, kind: 'IPPool', metadata: { name, ...(labels ? { labels } : {}) }, spec: { cidr, ...spec } });

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-crd.yaml', 'calico-v3.yaml']);
    for (const ns of ['ns-one', 'ns-two', 'elastic-system', 'gitops', 'remote-cluster-guard'])
      assertOk(await kubectl(['create', 'namespace', ns]));
    certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs });
    assertOk(await apply(webhookConfigurations(hook.url, certs.caBundle)));
    // The kube-apiserver picks up new webhook configurations asynchronously: wait until a denial shows.
    const probe = es('ns-one', 'probe', '8.16.1', { remoteClusters: [{ name: 'x:y', elasticsearchRef: { name: 'nothing' } }] });
    for (let i = 0; i < 100 && (await apply(probe, '--dry-run=server')).code === 0; i++) await new Promise((r) => setTimeout(r, 100));
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('Elasticsearch (ECK docs examples)', () => {
  it('denies remote clusters while no Enterprise licence is in force, saying what was looked for', async () => {
    assertOk(await apply(es('ns-two', 'cluster-two', '8.16.1')));
    const r = await apply(fixture('eck/certificate-model.yaml'));
    assertDenied(
      r,
      'es-enterprise-license',
      /there is no ConfigMap elastic-system\/elastic-licensing and no Secret labelled license\.k8s\.elastic\.co\/scope=operator in elastic-system; install an Enterprise licence/,
    );
    assert.equal(await exists(['es', 'cluster-one', '-n', 'ns-one']), false);
  });

  it('accepts the ECK docs API-key model once the licence ConfigMap is in the live state', async () => {
    assertOk(await apply(fixture('eck/license-enterprise.yaml')));
    await hook.waitForMetrics((t) => stateCount(t, 'ConfigMap') >= 1, 'the licensing ConfigMap in the state');
    const r = await apply(fixture('eck/api-key-model.yaml'));
    assertOk(r);
    assert.match(r.stdout, /elasticsearch\.elasticsearch\.k8s\.elastic\.co\/cluster-one created/);
  });

  it('defaults remoteClusterServer on a cluster that an API-key remote points at, with a restart warning', async () => {
    await waitForState('Elasticsearch', 2);
    // cluster-two without the server, as a user might re-apply it.
    const r = await apply(es('ns-two', 'cluster-two', '8.16.1'));
    assertOk(r);
    assert.match(
      r.stderr,
      /Warning: es-remote-cluster-server: spec\.remoteClusterServer\.enabled: .*ns-one\/cluster-one connects with an API key; this restarts every node/,
    );
    const stored = await getJson(['es', 'cluster-two', '-n', 'ns-two']);
    assert.deepEqual(stored.spec.remoteClusterServer, { enabled: true });
  });

  it('defaults elasticsearchRef.namespace (certificate model, same namespace) and stores the mutation', async () => {
    assertOk(
      await apply(
        es('ns-two', 'cluster-three', '8.16.1', { remoteClusters: [{ name: 'two', elasticsearchRef: { name: 'cluster-two' } }] }),
      ),
    );
    const stored = await getJson(['es', 'cluster-three', '-n', 'ns-two']);
    assert.deepEqual(stored.spec.remoteClusters[0].elasticsearchRef, { name: 'cluster-two', namespace: 'ns-two' });
  });

  it('accepts the external-cluster CA ConfigMap of the ECK docs (fetched on demand) and defaults a labelled one', async () => {
    const r = await kubectl(['apply', '-n', 'ns-two', '-f', '-'], fixture('eck/external-ca.yaml'));
    assertOk(r);
    const ca = (
      JSON.parse((await kubectl(['get', 'configmap', 'remote-certs', '-n', 'ns-two', '-o', 'json'])).stdout) as {
        data: Record<string, string>;
      }
    ).data['ca.crt'];
    const labelled = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca-for-four', namespace: 'ns-two', labels: { 'remote-cluster-guard.io/transport-ca-for': 'cluster-four' } },
      data: { 'ca.crt': ca },
    };
    assertOk(await apply(JSON.stringify(labelled)));
    await hook.waitForMetrics((t) => stateCount(t, 'ConfigMap') >= 2, 'the labelled CA ConfigMap in the state');
    assertOk(await apply(es('ns-two', 'cluster-four', '8.16.1')));
    const stored = await getJson(['es', 'cluster-four', '-n', 'ns-two']);
    assert.equal(stored.spec.transport.tls.certificateAuthorities.configMapName, 'ca-for-four');
  });

  describe('each kind of violation fails kubectl apply with the rule message', () => {
    const cases: [string, () => string, string, RegExp][] = [
      [
        'self reference',
        () => es('ns-one', 'narcissus', '8.16.1', { remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'narcissus' } }] }),
        'es-remote-ref',
        /spec\.remoteClusters\[0\]\.elasticsearchRef: .*itself/,
      ],
      [
        'an alias with a colon',
        () =>
          es('ns-one', 'colon', '8.16.1', {
            remoteClusters: [{ name: 'a:b', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } }],
          }),
        'es-remote-ref',
        /spec\.remoteClusters\[0\]\.name: /,
      ],
      [
        'duplicate aliases',
        () =>
          es('ns-one', 'dupes', '8.16.1', {
            remoteClusters: [
              { name: 'two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } },
              { name: 'two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } },
            ],
          }),
        'es-remote-ref',
        /spec\.remoteClusters\[0\]\.name: /,
      ],
      [
        'incompatible versions (local 9.0, remote 8.16)',
        () =>
          es('ns-one', 'nine', '9.0.0', {
            remoteClusters: [{ name: 'two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } }],
          }),
        'es-remote-version',
        /cannot connect to remote ns-two\/cluster-two/,
      ],
      [
        'an API key on 8.9',
        () =>
          es('ns-one', 'old-keys', '8.9.2', {
            remoteClusters: [
              {
                name: 'two',
                elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' },
                apiKey: { access: { search: { names: ['*'] } } },
              },
            ],
          }),
        'es-api-key-version',
        /8\.10\.0 or later/,
      ],
      [
        'a transport CA ConfigMap that does not exist',
        () => es('ns-one', 'no-ca', '8.16.1', { transport: { tls: { certificateAuthorities: { configMapName: 'missing-ca' } } } }),
        'es-transport-ca',
        /ConfigMap ns-one\/missing-ca was not found/,
      ],
    ];
    for (const [what, manifest, rule, message] of cases) {
      it(what, async () => {
        const r = await apply(manifest());
        assertDenied(r, rule, message);
      });
    }
  });

  it('denies upgrading a remote to a version that breaks a cluster referencing it, from live state', async () => {
    const r = await apply(es('ns-two', 'cluster-two', '9.1.0', { remoteClusterServer: { enabled: true } }));
    assertDenied(r, 'es-remote-version', /ns-one\/cluster-one/);
    assert.equal((await getJson(['es', 'cluster-two', '-n', 'ns-two'])).spec.version, '8.16.1');
  });
});

describe('Calico federation (Calico Enterprise docs examples)', () => {
  it('accepts the Calico docs RemoteClusterConfigurations and federation pool, and stores overlayRoutingMode', async () => {
    assertOk(await apply(fixture('calico/local-pool-ipv4.yaml').replace('projectcalico.org/v3', 'crd.projectcalico.org/v1')));
    await waitForState('IPPool', 1);
    for (const f of ['calico-docs-rcc-etcd.yaml', 'calico-docs-rcc-kubernetes.yaml', 'calico-docs-federation-pool.yaml'])
      assertOk(await apply(fixture(`calico/${f}`)));
    const rcc = await getJson(['remoteclusterconfigurations.projectcalico.org', 'cluster-n']);
    assert.equal(rcc.spec.syncOptions.overlayRoutingMode, 'Enabled', 'a VXLAN pool exists, so Calico would default Enabled');
  });

  describe('each kind of violation fails kubectl apply with the rule message', () => {
    const cases: [string, string, string, RegExp][] = [
      [
        'an etcdv3 RCC without etcdEndpoints',
        JSON.stringify({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'RemoteClusterConfiguration',
          metadata: { name: 'half' },
          spec: { datastoreType: 'etcdv3', kubeconfig: '/etc/kc' },
        }),
        'calico-rcc-datastore',
        /etcdEndpoints/,
      ],
      [
        'an enabled federation pool',
        pool('fed-enabled', '172.20.0.0/16', {}, { 'remote-cluster-guard.io/remote-cluster': 'cluster-n' }),
        'calico-federation-pool-disabled',
        /disabled: true/,
      ],
      ['a CIDR that is not masked', pool('unmasked', '10.99.0.5/16'), 'calico-pool-spec', /10\.99\.0\.0\/16/],
      [
        // Calico API v1 spellings, read as Calico's v1-to-v3 converter reads them (IPPoolv1v3Converter.ConvertFromK8s).
        'a crd/v1 pool turning IPIP on by its legacy spelling beside VXLAN',
        pool('legacy-ipip', '10.98.0.0/16', { ipip: { enabled: true }, vxlanMode: 'Always' }),
        'calico-pool-spec',
        /spec\.ipip: IPIP \(Always\) and VXLAN \(Always\)/,
      ],
      [
        'an IPv6 pool overlapping link-local',
        pool('linklocal', 'fe80::/64', {}, undefined, 'projectcalico.org/v3'),
        'calico-pool-spec',
        /fe80::\/10/,
      ],
    ];
    for (const [what, manifest, rule, message] of cases) {
      it(what, async () => assertDenied(await apply(manifest), rule, message));
    }
  });

  it('denies an IPPool overlapping a pool created a moment earlier, from live state', async () => {
    const before = stateCount(await metrics(), 'IPPool');
    assertOk(await apply(pool('first', 'fd00:50::/48', {}, undefined, 'projectcalico.org/v3')));
    await waitForState('IPPool', before + 1);
    const r = await apply(pool('second', 'fd00:50:0:8000::/49'));
    assertDenied(r, 'calico-pool-overlap', /first \(fd00:50::\/48\)/);
  });

  it('denies creating a disabled IPPool inside another disabled one, as Calico refuses any overlap on create', async () => {
    const before = stateCount(await metrics(), 'IPPool');
    assertOk(await apply(pool('spare', '10.97.0.0/16', { disabled: true })));
    await waitForState('IPPool', before + 1);
    assertDenied(await apply(pool('spare-part', '10.97.1.0/24', { disabled: true })), 'calico-pool-overlap', /spare \(10\.97\.0\.0\/16\)/);
  });

  it('reads the legacy nat-outgoing spelling: turning NAT on by it, with a remote range uncovered, is denied on update', async () => {
    const rcc = JSON.stringify({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'RemoteClusterConfiguration',
      metadata: { name: 'legacy-remote', annotations: { 'remote-cluster-guard.io/remote-cidrs': 'fd00:123::/48' } },
      spec: { datastoreType: 'kubernetes', kubeconfig: '/etc/kc' },
    });
    const before = stateCount(await metrics(), 'IPPool');
    assertOk(await apply(rcc));
    // IPv6: no other IPv6 pool of this cluster has NAT on, so this one turns it on for the family.
    assertOk(await apply(pool('legacy-nat', 'fd00:99::/48')));
    await waitForState('IPPool', before + 1);
    const r = await apply(pool('legacy-nat', 'fd00:99::/48', { 'nat-outgoing': true }));
    assertDenied(
      r,
      'calico-nat-coverage',
      /spec\.nat-outgoing: IPPool legacy-nat \(fd00:99::\/48\) turns on natOutgoing for IPv6.*fd00:123::\/48/,
    );
  });
});

describe('GitOps syncs and dry runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcg-gitops-'));
  writeFileSync(join(dir, '10-good-es.yaml'), es('gitops', 'good', '8.16.1'));
  writeFileSync(
    join(dir, '20-bad-es.yaml'),
    es('gitops', 'bad', '8.16.1', { remoteClusters: [{ name: 'x', elasticsearchRef: { name: 'bad' } }] }),
  );
  writeFileSync(join(dir, '30-good-pool.yaml'), pool('gitops-pool', '10.77.0.0/16', { vxlanMode: 'Never' }));

  it('kubectl apply -f dir fails on the bad object with its message and stores the good ones', async () => {
    const r = await kubectl(['apply', '-f', dir]);
    assertDenied(r, 'es-remote-ref', /error when creating ".*20-bad-es\.yaml"/);
    assert.equal(await exists(['es', 'good', '-n', 'gitops']), true);
    assert.equal(await exists(['ippools.crd.projectcalico.org', 'gitops-pool']), true);
    assert.equal(await exists(['es', 'bad', '-n', 'gitops']), false);
  });

  it('kubectl apply --server-side -f dir does the same', async () => {
    const r = await kubectl(['apply', '--server-side', '-f', dir]);
    assertDenied(r, 'es-remote-ref', /itself/);
    assert.equal(await exists(['es', 'bad', '-n', 'gitops']), false);
  });

  it('--dry-run=server gives the same decisions and stores nothing', async () => {
    const bad = await apply(
      es('gitops', 'dry-bad', '8.16.1', { remoteClusters: [{ name: 'x', elasticsearchRef: { name: 'dry-bad' } }] }),
      '--dry-run=server',
    );
    assertDenied(bad, 'es-remote-ref', /itself/);
    const good = await apply(es('gitops', 'dry-good', '8.16.1'), '--dry-run=server');
    assertOk(good);
    assert.match(good.stdout, /created \(server dry run\)/);
    assert.equal(await exists(['es', 'dry-good', '-n', 'gitops']), false);
    const decisions = readFileSync(hook.decisionLog, 'utf-8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(
      decisions.some((d) => d.name === 'dry-bad' && d.dryRun === true && d.allowed === false),
      'the decision log records the dry-run denial',
    );
  });
});

describe('operations', () => {
  it('reloads a rotated serving certificate and the API server keeps calling the webhook', async () => {
    const before = metricValue(await metrics(), 'remote_cluster_guard_serving_certificate_expiry_seconds');
    const authority = {
      caCert: readFileSync(join(certs.certDir, 'ca.crt'), 'utf-8'),
      caKey: readFileSync(join(certs.certDir, 'ca.key'), 'utf-8'),
    };
    const next = issueServingCertificate(authority, {
      service: 'remote-cluster-guard',
      namespace: 'remote-cluster-guard',
      validityDays: 30,
    });
    writeFileSync(join(certs.certDir, 'tls.key'), next.key);
    writeFileSync(join(certs.certDir, 'tls.crt'), next.cert);
    await hook.waitForMetrics(
      (t) => (metricValue(t, 'remote_cluster_guard_serving_certificate_expiry_seconds') ?? 0) > (before ?? 0) + 86_400,
      'the new certificate in use',
      30_000,
    );
    assertDenied(
      await apply(
        es('ns-one', 'after-rotation', '8.16.1', { remoteClusters: [{ name: 'x', elasticsearchRef: { name: 'after-rotation' } }] }),
      ),
      'es-remote-ref',
      /itself/,
    );
    assertOk(await apply(es('ns-one', 'after-rotation-ok', '8.16.1')));
  });

  it('resumes its watches after the kube-apiserver restarts: an object created afterwards reaches the live state', async () => {
    const before = stateCount(await metrics(), 'IPPool');
    await cluster.restartApiServer();
    assertOk(await apply(pool('after-restart', '10.88.0.0/16', { vxlanMode: 'Never' })));
    // The informers retry with a jittered backoff of 1 s doubling up to 30 s.
    await hook.waitForMetrics((t) => stateCount(t, 'IPPool') === before + 1, 'the pool created after the restart in the state', 90_000);
    assertDenied(
      await apply(pool('overlaps-after-restart', '10.88.128.0/17')),
      'calico-pool-overlap',
      /after-restart \(10\.88\.0\.0\/16\)/,
    );
  });

  it('with the webhook stopped, failurePolicy Fail from deploy/ rejects writes of the guarded kinds only', async () => {
    await hook.stop();
    const r = await apply(es('ns-one', 'while-down', '8.16.1'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed calling webhook "(mutate|validate)\.remote-cluster-guard\.io"/);
    assertOk(await apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unguarded', namespace: 'ns-one' } })));
  });
});
