/**
 * The kube-apiserver's own audit log, with the policy the README documents
 * (deploy/audit/audit-policy.yaml): a denied `kubectl apply` is recorded with
 * the user who made it and the webhook's audit annotation
 * (`validate.remote-cluster-guard.io/<rule>`), and the credentials of a
 * RemoteClusterConfiguration never reach the log (level Metadata).
 * https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { makeCerts, startWebhook, webhookConfigurations, type RunningWebhook, kubectlUntilRefused } from './support/webhook.js';

const ROOT = join(import.meta.dirname, '../..');
const POLICY = join(ROOT, 'deploy/audit/audit-policy.yaml');
const dir = mkdtempSync(join(tmpdir(), 'rcg-e2e-audit-'));
const auditLog = join(dir, 'audit.log');
const SENTINEL = 'sEcReT-sEnTiNeL-audit-51c2';

let cluster: TestCluster;
let hook: RunningWebhook;

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });

/** The API server's audit events (JSON lines) so far. */
interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}
const events = (): AuditEvent[] =>
  existsSync(auditLog)
    ? readFileSync(auditLog, 'utf-8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent)
    : [];

const selfRef = JSON.stringify({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name: 'loop', namespace: 'ns-one' },
  spec: {
    version: '8.16.1',
    nodeSets: [{ name: 'default', count: 1 }],
    remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'loop' } }],
  },
});

before(
  async () => {
    cluster = await startTestCluster({ apiserverArgs: [`--audit-policy-file=${POLICY}`, `--audit-log-path=${auditLog}`] });
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-v3.yaml']);
    for (const ns of ['ns-one', 'elastic-system']) assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
    const certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs });
    assert.equal((await kubectl(['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle))).code, 0);
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('the kube-apiserver audit log with the documented policy', () => {
  it('records a denied kubectl apply with the user and the webhook audit annotation', async () => {
    const r = await kubectlUntilRefused(cluster, ['apply', '-f', '-'], selfRef, () =>
      kubectl(['delete', 'elasticsearch', 'loop', '-n', 'ns-one', '--ignore-not-found']),
    );
    assert.match(r.stderr, /denied the request: es-remote-ref/, r.stderr);

    const denied = events().filter(
      (e) =>
        e.verb === 'create' && e.objectRef?.resource === 'elasticsearches' && e.objectRef.name === 'loop' && e.responseStatus?.code !== 201,
    );
    const event = denied.at(-1);
    assert.ok(event, `no audit event for the denied create in ${auditLog}`);
    assert.equal(event.stage, 'ResponseComplete');
    assert.equal(event.user.username, 'rcg-admin', 'the user the harness kubectl authenticates as');
    assert.equal(event.objectRef?.namespace, 'ns-one');
    assert.ok((event.responseStatus?.code ?? 0) >= 400, `response code ${event.responseStatus?.code}`);
    assert.match(
      event.annotations?.['validate.remote-cluster-guard.io/es-remote-ref'] ?? '',
      /^deny spec\.remoteClusters\[0\]\.elasticsearchRef/,
    );
  });

  it('keeps RemoteClusterConfiguration credentials out (level Metadata), and records nothing of other kinds', async () => {
    const rcc = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'RemoteClusterConfiguration',
      metadata: { name: 'cluster-b' },
      spec: { datastoreType: 'kubernetes', kubeconfigInline: SENTINEL, k8sAPIToken: SENTINEL },
    });
    await kubectl(['apply', '-f', '-'], rcc);
    await kubectl(['create', 'configmap', 'unguarded', '-n', 'ns-one', '--from-literal', `k=${SENTINEL}`]);
    assert.ok(
      events().some((e) => e.objectRef?.resource === 'remoteclusterconfigurations'),
      'the RemoteClusterConfiguration write is recorded',
    );
    assert.ok(!readFileSync(auditLog, 'utf-8').includes(SENTINEL), 'a credential reached the audit log');
    assert.ok(!events().some((e) => e.objectRef?.resource === 'configmaps'), 'kinds the webhook does not guard are not recorded');
  });
});
