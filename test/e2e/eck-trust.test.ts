/**
 * End to end, the CA trust rules on a real kube-apiserver driven with the real
 * kubectl: a CA copy taken as-is from another namespace (its owner reference
 * still naming the source Elasticsearch) is reported on `kubectl apply` of the
 * Elasticsearch that trusts it; after the source's
 * `<name>-es-transport-certs-public` Secret is rotated, `remote-cluster-guard
 * audit --read-ca-secrets` reports the copy as stale; a nodeSet CA path
 * outside the mounted Secret is denied. There is no garbage collector here
 * (no kube-controller-manager), so the copy survives long enough to be judged.
 * One cluster and one webhook, the tests in order (each builds on the last).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type KubectlResult, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { makeCerts, startWebhook, webhookConfigurations, type RunningWebhook } from './support/webhook.js';
import { runCli } from '../helpers/cli.js';
import { makeEckTransportCa } from '../unit/rules/elasticsearch/certs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CM_FIELD = 'spec.transport.tls.certificateAuthorities.configMapName';

let cluster: TestCluster;
let hook: RunningWebhook | undefined;
/** cluster-one's transport CA before and after ECK rotates it. */
const now = new Date();
const caBefore = makeEckTransportCa(now, 'cluster-one', '0a');
const caAfter = makeEckTransportCa(now, 'cluster-one', '0b');

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });
const ok = (r: KubectlResult) => assert.equal(r.code, 0, `kubectl failed:\n${r.stdout}\n${r.stderr}`);
const apply = (o: unknown) => kubectl(['apply', '-f', '-'], JSON.stringify(o));

const elasticsearch = (namespace: string, name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name, namespace },
  spec: { version: '8.16.1', nodeSets: [{ name: 'default', count: 1 }], ...spec },
});
const clusterTwo = elasticsearch('ns-two', 'cluster-two', {
  transport: { tls: { certificateAuthorities: { configMapName: 'remote-certs' } } },
});
const publicSecret = (pem: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'cluster-one-es-transport-certs-public', namespace: 'ns-one' },
  data: { 'ca.crt': Buffer.from(pem).toString('base64') },
});

/** Applies `o` until the answer satisfies `done` (the webhook configuration and the 30 s by-name cache take effect with a delay). */
async function applyUntil(o: unknown, done: (r: KubectlResult) => boolean, what: string, timeoutMs = 90_000): Promise<KubectlResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await apply(o);
    if (done(r)) return r;
    assert.ok(Date.now() < deadline, `${what} not seen within ${timeoutMs} ms; last answer:\n${r.stdout}\n${r.stderr}`);
    await sleep(500);
  }
}

type AuditJson = {
  objects: { namespace: string; name: string; findings: { rule: string; action: string; field: string; message: string }[] }[];
};
async function auditOf(name: string, extra: string[] = []): Promise<AuditJson['objects'][number]['findings']> {
  const r = await runCli(['audit', '--kubeconfig', cluster.kubeconfig, '--output', 'json', ...extra]);
  assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
  const found = (JSON.parse(r.stdout) as AuditJson).objects.find((o) => o.name === name);
  assert.ok(found, `audit lists ${name}:\n${r.stdout}`);
  return found.findings;
}

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml']);
    for (const ns of ['ns-one', 'ns-two']) ok(await kubectl(['create', 'namespace', ns]));
    const certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs, extraArgs: ['--read-ca-secrets'] });
    ok(await kubectl(['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle)));
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('ECK CA copies on a real API server', { concurrency: false }, () => {
  it('a CA copy owned by an Elasticsearch of another namespace is denied on kubectl apply, naming the owner', async () => {
    ok(await apply(elasticsearch('ns-one', 'cluster-one')));
    const uid = (await kubectl(['get', 'elasticsearch', 'cluster-one', '-n', 'ns-one', '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();
    assert.ok(uid, 'cluster-one has a uid');
    ok(await apply(publicSecret(caBefore)));
    // The copy as `kubectl get secret ... -o yaml` gives it, moved to ns-two: the owner reference came along.
    ok(
      await apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'remote-certs',
          namespace: 'ns-two',
          annotations: { 'remote-cluster-guard.io/ca-source': 'ns-one/cluster-one' },
          ownerReferences: [{ apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', name: 'cluster-one', uid }],
        },
        data: { 'ca.crt': caBefore },
      }),
    );
    const r = await applyUntil(clusterTwo, (x) => x.code !== 0, 'the denial');
    assert.match(r.stderr, /admission webhook "validate\.remote-cluster-guard\.io" denied the request/);
    assert.match(
      r.stderr,
      new RegExp(
        `es-ca-owner-reference: ${CM_FIELD.replace(/\./g, '\\.')}: ConfigMap ns-two/remote-certs .* has ownerReferences\\[0\\] to Elasticsearch ns-one/cluster-one, in another namespace: owner references are namespace-local, so the garbage collector deletes the copy`,
      ),
    );
  });

  it('without the owner reference the Elasticsearch is created, and the audit finds the copy current', async () => {
    ok(
      await kubectl([
        'patch',
        'configmap',
        'remote-certs',
        '-n',
        'ns-two',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/metadata/ownerReferences"}]',
      ]),
    );
    const r = await applyUntil(clusterTwo, (x) => x.code === 0, 'the Elasticsearch admitted once the copy is fixed');
    assert.doesNotMatch(r.stderr, /Warning/);
    const findings = await auditOf('cluster-two', ['--read-ca-secrets']);
    assert.deepEqual(findings, []);
  });

  it('rotating the source Secret makes the next audit report the copy as stale; without Secret reads it cannot verify', async () => {
    ok(await apply(publicSecret(caAfter)));
    const stale = await auditOf('cluster-two', ['--read-ca-secrets']);
    assert.deepEqual(
      stale.map((f) => `${f.rule} ${f.action} ${f.field}`),
      [`es-ca-copy-stale warn ${CM_FIELD}`],
    );
    assert.match(
      stale[0]!.message,
      /key ca\.crt of ConfigMap ns-two\/remote-certs is a stale copy of the transport CA of Elasticsearch ns-one\/cluster-one: it lacks the current CN=cluster-one-transport, OU=cluster-one .* from ca\.crt of Secret ns-one\/cluster-one-es-transport-certs-public/,
    );
    const blind = await auditOf('cluster-two');
    assert.deepEqual(
      blind.map((f) => `${f.rule} ${f.action}`),
      ['es-ca-copy-stale warn'],
    );
    assert.match(blind[0]!.message, /cannot verify .*: Secret reads not enabled/);
  });

  it('a nodeSet CA path outside the mounted Secret is denied on kubectl apply', async () => {
    ok(
      await apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'remote-certs', namespace: 'ns-two' },
        data: { 'remote.ca.crt': Buffer.from(caAfter).toString('base64') },
      }),
    );
    const mounted = (path: string) =>
      elasticsearch('ns-two', 'cluster-three', {
        nodeSets: [
          {
            name: 'default',
            count: 1,
            config: { 'xpack.security.transport.ssl.certificate_authorities': [path] },
            podTemplate: {
              spec: {
                containers: [
                  { name: 'elasticsearch', volumeMounts: [{ mountPath: '/usr/share/elasticsearch/config/other', name: 'remote-certs' }] },
                ],
                volumes: [{ name: 'remote-certs', secret: { secretName: 'remote-certs' } }],
              },
            },
          },
        ],
      });
    const denied = await apply(mounted('/usr/share/elasticsearch/config/others/remote.ca.crt'));
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /es-nodeset-transport-ca: .*CA file \/usr\/share\/elasticsearch\/config\/others\/remote\.ca\.crt will not exist: no volume of the elasticsearch container is mounted/,
    );
    ok(await apply(mounted('/usr/share/elasticsearch/config/other/remote.ca.crt')));
  });
});
